"""Helpers shared by the oracle tests: build job scenarios, run
`threadsim run FILE --format json` and read its per-thread metrics.

Stdlib only. Times in scenarios are written in whole milliseconds; the
simulator reports nanoseconds, so NS_PER_MS converts the oracles' answers.
"""

import json
import os
import subprocess

NS_PER_MS = 1000000


class RunError(Exception):
    """threadsim failed or printed something that is not the contracted JSON."""


def ms(n):
    """A duration string of n whole milliseconds, as the contract writes it."""
    return "%dms" % n


def job_process(name, ops, arrival=0, priority=None, nice=None):
    """A job: a process with one thread named "main" running `ops`, a list of
    ("compute", ms) and ("io", ms) pairs written out op by op."""
    program = []
    for kind, dur in ops:
        program.append({"op": kind, "for": ms(dur)})
    proc = {"name": name, "arrival": ms(arrival)}
    if priority is not None:
        proc["priority"] = priority
    if nice is not None:
        proc["nice"] = nice
    proc["threads"] = [{"name": "main", "program": program}]
    return proc


def scenario(name, scheduler, processes, description=None, machine=None):
    """A scenario document (a dict ready for json.dump)."""
    doc = {"name": name}
    if description:
        doc["description"] = description
    if machine:
        doc["machine"] = machine
    doc["scheduler"] = scheduler
    doc["processes"] = processes
    return doc


def write_scenario(directory, filename, doc):
    """Writes doc as JSON into directory/filename and returns the path."""
    path = os.path.join(directory, filename)
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    return path


def run_json(threadsim, path, extra_args=(), timeout=60):
    """Runs `threadsim run PATH --format json [extra_args]`; returns the parsed
    report. Raises RunError with the exit code and stderr on failure."""
    cmd = [threadsim, "run", path, "--format", "json"] + list(extra_args)
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise RunError("%s: timed out after %d s" % (" ".join(cmd), timeout))
    except OSError as e:
        raise RunError("%s: cannot run: %s" % (" ".join(cmd), e))
    out = proc.stdout.decode("utf-8", "replace")
    err = proc.stderr.decode("utf-8", "replace").strip()
    if proc.returncode != 0:
        raise RunError("%s: exit code %d\nstderr: %s"
                       % (" ".join(cmd), proc.returncode, err or "(empty)"))
    try:
        report = json.loads(out)
    except ValueError as e:
        raise RunError("%s: stdout is not JSON (%s):\n%s" % (" ".join(cmd), e, out[:2000]))
    if not isinstance(report, dict) or not isinstance(report.get("threads"), list):
        raise RunError("%s: the report has no \"threads\" list:\n%s" % (" ".join(cmd), out[:2000]))
    return report


def threads_by_process(report):
    """The report's thread entries keyed by process name (one thread per job)."""
    found = {}
    for t in report["threads"]:
        found[t.get("process")] = t
    return found
