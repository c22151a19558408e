"""Progress bars appear on a terminal and nowhere else (CI logs, pipes, files)."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios

SCRIPT = "from snapcheck.base.progress import progress_bar\nfor _ in progress_bar(range(5), desc='work'): pass\n"


def test_no_progress_bar_when_stderr_is_a_pipe():
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True)
    assert result.stderr == "" and result.stdout == ""


def test_a_progress_bar_on_a_terminal():
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))  # a new pty is 0 columns wide
    try:
        subprocess.run([sys.executable, "-c", SCRIPT], stderr=terminal, stdout=subprocess.DEVNULL, check=True)
        os.close(terminal)
        output = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the terminal side is closed: everything was read
                break
            if not chunk:
                break
            output += chunk
    finally:
        os.close(controller)
    assert b"work" in output and b"5/5" in output
