"""The tables of ``docs/zoo.md``: the entries (from the registry), and what each tool did (from the rows of
``reports/zoo.csv``), with the command's summary.

An entry's variant is *flagged* by a tool family (snapcheck's three checks, torch's gradcheck and
gradgradcheck, ASE's finite differences, 20 Adam steps) when any tool of the family flagged it, and
*named* when the message of one of them states the bug.
"""

from __future__ import annotations

import pandas as pd

from snapcheck.torch.zoo.tools import TOOLS

#: The families of :data:`~snapcheck.torch.zoo.tools.TOOLS`, in order.
FAMILIES = tuple(dict.fromkeys(family for family, _ in TOOLS.values()))


def related(urls) -> str:
    """ " (also [project#n](url), …)" for the related threads of an entry."""
    links = [f"[{url.split('/')[4]}#{url.rsplit('/', 1)[-1]}]({url})" for url in urls]
    return f" (also {', '.join(links)})" if links else ""


def catalogue(entries) -> str:
    """The entries as a Markdown table: the bug, its class, where it lived, the potential and the data it is on."""
    rows = [
        {
            "entry": f"[{e.key}]({e.url})",
            "the bug": e.title + related(e.related),
            "class": e.bug_class,
            "where": e.place,
            "potential": e.potential,
            "quantity": ", ".join(e.quantities),
        }
        for e in entries
    ]
    return pd.DataFrame(rows).to_markdown(index=False) + "\n"


def gaps(entries) -> str:
    """The entries snapcheck misses or misnames, with what it says and what it should say, as a Markdown list."""
    return "".join(
        f"- **{e.key}** ({'missed' if e.missed else 'misnamed'}): {e.missed or e.misnamed}.\n"
        for e in entries
        if e.missed or e.misnamed
    )


def prepared(table: pd.DataFrame) -> pd.DataFrame:
    return table.assign(
        family=table["tool"].map(lambda tool: TOOLS[tool][0]),
        detected=table["detected"].astype(bool),
        named=table["named"].astype(bool),
    )


def flagged(rows: pd.DataFrame) -> str:
    """The labels of the tools that flagged these rows, named ones first and marked; "—" when none did."""
    named = [TOOLS[t][1] + " (named)" for t in rows.loc[rows["named"], "tool"]]
    unnamed = [TOOLS[t][1] for t in rows.loc[rows["detected"] & ~rows["named"], "tool"]]
    return ", ".join(named + unnamed) or "—"


def verdict(rows: pd.DataFrame) -> str:
    """One cell: the tools of a family that flagged the buggy variant in float64 (and in float32 where that
    differs), and any that flagged the fixed variant (false positives)."""
    buggy, fixed = rows[rows["variant"] == "buggy"], rows[rows["variant"] == "fixed"]
    parts = [flagged(buggy[buggy["dtype"] == "float64"])]
    single = buggy[buggy["dtype"] == "float32"]
    if len(single) and flagged(single) != parts[0]:
        parts.append("float32: " + flagged(single))
    for dtype in ("float64", "float32"):
        false = fixed[(fixed["dtype"] == dtype) & fixed["detected"]]
        if len(false):
            parts.append(f"false positive ({dtype}): " + flagged(false.assign(named=False)))
    return "; ".join(parts)


def counts(rows: pd.DataFrame, by: list[str]) -> dict[str, str]:
    """Buggy variants flagged and named, fixed variants flagged, per dtype, as "k/n" over the groups ``by``."""
    cells = {}
    for dtype in ("float64", "float32"):
        for variant, columns in (("buggy", ("flagged", "named")), ("fixed", ("false positives",))):
            chosen = rows[(rows["dtype"] == dtype) & (rows["variant"] == variant)]
            grouped = chosen.groupby(by)[["detected", "named"]].any()
            for column in columns:
                hits = grouped["named" if column == "named" else "detected"].sum()
                cells[f"{column} ({dtype})"] = f"{int(hits)}/{len(grouped)}"
    return cells


def rates(table: pd.DataFrame) -> pd.DataFrame:
    """Per family (any of its tools, per entry) and per tool: flagged, named, false positives, summed seconds."""
    table = prepared(table)
    rows = []
    for family in FAMILIES:
        members = table[table["family"] == family]
        if len(members):
            rows.append({"tool": f"**{family}**", **counts(members, ["entry"]), "seconds": members["seconds"].sum()})
        tools = [t for t, (f, _) in TOOLS.items() if f == family and t in set(members["tool"])]
        for tool in tools if len(tools) > 1 else ():
            chosen = members[members["tool"] == tool]
            rows.append({"tool": tool, **counts(chosen, ["entry"]), "seconds": chosen["seconds"].sum()})
    return pd.DataFrame(rows).assign(seconds=lambda frame: frame["seconds"].round(0).astype(int))


def markdown(table: pd.DataFrame) -> str:
    """Entry by entry, which tools flagged the bug; then the rates of each family and tool."""
    table = prepared(table)
    by_entry = []
    for key, rows in table.groupby("entry", sort=False):
        cells = {"entry": f"[{key}]({rows['url'].iloc[0]})", "class": rows["bug_class"].iloc[0]}
        by_entry.append(cells | {family: verdict(rows[rows["family"] == family]) for family in FAMILIES})
    return (
        "Entry by entry, the tools that flagged the buggy variant in float64 (and in float32 where that differs); "
        "“(named)”: the message states the bug.\n\n"
        + pd.DataFrame(by_entry).to_markdown(index=False)
        + "\n\nFamily by family (in bold: flagged by any of its tools) and tool by tool: buggy variants flagged "
        "and named, fixed variants flagged (false positives), over the entries; the tool's time summed over all "
        f"its runs, {table['seconds'].sum():.0f} s in all.\n\n" + rates(table).to_markdown(index=False) + "\n"
    )


def summary(table: pd.DataFrame) -> str:
    """A few lines for stdout: each family's flagged, named and false-positive counts."""
    return "\n".join(
        f"{row['tool'].strip('*')}: " + ", ".join(f"{k} {v}" for k, v in row.items() if k not in ("tool", "seconds"))
        for row in rates(table).to_dict("records")
        if row["tool"].startswith("**")
    )


def false_positives(table: pd.DataFrame, family: str = "snapcheck") -> int:
    """How many rows of fixed variants a family of tools flagged (``python -m snapcheck.bench zoo`` exits 1 on any
    for snapcheck)."""
    table = prepared(table)
    return int((table["detected"] & (table["variant"] == "fixed") & (table["family"] == family)).sum())
