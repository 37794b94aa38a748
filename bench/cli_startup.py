"""Benchmark: what the common ``circulate`` commands cost to start, and how many modules each
imports, printed as the median of several runs.

    .venv/bin/python bench/cli_startup.py                            # this build, 10 runs each
    .venv/bin/python bench/cli_startup.py --runs 20
    .venv/bin/python bench/cli_startup.py --circulate /tmp/old/.venv/bin/circulate   # and another

Each command runs in its own process, as an administrator or a script runs it, on a scratch
SQLite database made for the run (migrated first) and small files (a few books, a few members),
so the figures are start-up and little else. With ``--circulate`` the other build runs the same
commands on a database of its own, alternating with this one run by run (A, B, A, B, ...), since
other work on the machine moves the figures; both are printed side by side with their ratio.

CPU is user + system time of the command's process (``getrusage`` of the children), the figure
that start-up moves; wall time is printed beside it. The module count is how many modules the
same command's process holds when it ends (``sys.modules``), from one more run. The load average
is printed before and after: read the figures against it.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

CIRCULATE = Path(sys.executable).parent / "circulate"
BOOKS = (
    "isbn,title,authors,copies\n"
    "9780306406157,The River Garden,Abara A.,2\n"
    "9780131103627,The Harbour Map,Berg B.,1\n"
    "9780262033848,The Silent Tide,Castillo C.,3\n"
)
MEMBERS = "email,name\nada@example.org,Ada Abara\nbo@example.org,Bo Berg\n"
# What each command is called with; "{books}" and "{members}" are the files' paths.
COMMANDS: dict[str, tuple[str, ...]] = {
    "--help": ("--help",),
    "books import --help": ("books", "import", "--help"),
    "books import FILE": ("books", "import", "{books}"),
    "members import FILE": ("members", "import", "{members}"),
    "db upgrade": ("db", "upgrade"),
    "audit --json": ("audit", "--json"),
    "serve --help": ("serve", "--help"),
}


@dataclass
class Build:
    label: str
    circulate: Path
    env: dict[str, str]
    cpu: dict[str, list[float]] = field(default_factory=dict)
    wall: dict[str, list[float]] = field(default_factory=dict)
    modules: dict[str, int] = field(default_factory=dict)


def argv(build: Build, command: tuple[str, ...], files: dict[str, str]) -> list[str]:
    return [str(build.circulate), *(part.format(**files) for part in command)]


def timed(build: Build, args: list[str]) -> tuple[float, float]:
    """CPU seconds (user + system) and wall seconds of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    # Import re-runs add nothing (every ISBN and email is there by then), as in a script's loop.
    subprocess.run(args, env=build.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


# Runs the command as the script does and, on the way out, counts ``sys.modules`` into argv[1]
# (``-X importtime`` misses the modules imported through ``importlib.import_module``).
PROBE = """
import atexit, sys
from pathlib import Path
out = Path(sys.argv.pop(1))
atexit.register(lambda: out.write_text(str(len(sys.modules)), encoding="utf-8"))
sys.argv[0] = "circulate"
from entrypoints.cli import main
main()
"""


def imported_modules(build: Build, args: list[str], folder: Path) -> int:
    """How many modules the process of the command holds when it ends."""
    python = build.circulate.parent / "python"
    count = folder / "modules.txt"
    subprocess.run(  # noqa: S603
        [str(python), "-c", PROBE, str(count), *args[1:]],
        cwd=folder,  # not a work tree, whose packages ``-c`` would put first on the path
        env=build.env,
        capture_output=True,
    )
    return int(count.read_text(encoding="utf-8"))


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="timed runs of each command")
    parser.add_argument("--circulate", type=Path, help="another build's circulate, to compare")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="circulate-bench-") as scratch:
        folder = Path(scratch)
        files = {"books": str(folder / "books.csv"), "members": str(folder / "members.csv")}
        Path(files["books"]).write_text(BOOKS, encoding="utf-8")
        Path(files["members"]).write_text(MEMBERS, encoding="utf-8")
        builds = []
        targets = [("this", CIRCULATE)]
        if options.circulate is not None:
            targets.append(("other", options.circulate))
        for label, circulate in targets:
            env = {
                key: value for key, value in os.environ.items() if not key.startswith("CIRCULATE_")
            }
            env["CIRCULATE_DATABASE_URL"] = f"sqlite:///{folder / label}.db"
            env["CIRCULATE_SIGNING_KEYS_FILE"] = str(folder / f"{label}-keys.json")
            build = Build(label, circulate, env)
            upgrade = [str(circulate), "db", "upgrade"]
            subprocess.run(upgrade, env=env, check=True, capture_output=True)  # noqa: S603
            builds.append(build)

        print(f"load average before: {load_average()}")
        for name, command in COMMANDS.items():
            for build in builds:
                build.modules[name] = imported_modules(build, argv(build, command, files), folder)
                build.cpu[name], build.wall[name] = [], []
            for _ in range(options.runs):
                for build in builds:  # alternated, run by run
                    cpu, wall = timed(build, argv(build, command, files))
                    build.cpu[name].append(cpu)
                    build.wall[name].append(wall)
        print(f"load average after:  {load_average()}")
        print(f"median of {options.runs} runs; CPU = user + system of the command's process\n")

        header = f"{'command':<22}"
        for build in builds:
            header += f" | {build.label + ' CPU ms':>13} {'wall ms':>8} {'modules':>8}"
        if len(builds) == 2:
            header += " | CPU this/other"
        print(header)
        for name in COMMANDS:
            row = f"{name:<22}"
            for build in builds:
                cpu = statistics.median(build.cpu[name]) * 1000
                wall = statistics.median(build.wall[name]) * 1000
                row += f" | {cpu:>13.0f} {wall:>8.0f} {build.modules[name]:>8}"
            if len(builds) == 2:
                this, other = (statistics.median(b.cpu[name]) for b in builds)
                row += f" | {this / other:>14.2f}"
            print(row)


if __name__ == "__main__":
    main()
