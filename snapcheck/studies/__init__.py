"""Studies built on the oracle: ε sweeps and the paper's figures."""
