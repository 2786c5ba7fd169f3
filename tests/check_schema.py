#!/usr/bin/python3
"""Checks docs/scenario.schema.json against the scenarios and against the loader.

For every bundled scenario (scenarios/**/*.json) and good fixture
(tests/data/good/*.json): the schema accepts it and `threadsim validate`
accepts it. For every bad fixture (tests/data/bad/*): `threadsim validate`
rejects it with exit status 2, and the schema rejects it too, unless the
fixture says the schema cannot see the problem. A bad fixture that is JSON
may carry an "x-expect" object (the loader ignores x- keys):

    "x-expect": {"schema": "accept",      # default "reject"
                 "why": "the schema cannot count threads",
                 "path": "processes[0]...", # the JSON path validate names
                 "message": "does not exist"}  # part of validate's message

Prints one line per check and a final "N passed, N failed"; exits with 1 when
anything failed. Needs python3-jsonschema (Debian) for draft 2020-12.
"""

import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

try:
    import jsonschema
except ImportError:
    sys.exit("check_schema.py: python3-jsonschema is missing: apt-get install -y python3-jsonschema "
             "(or run scripts/install-deps.sh)")


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, what, detail=""):
        if ok:
            self.passed += 1
            print("ok    %s" % what)
        else:
            self.failed += 1
            print("FAIL  %s%s" % (what, ": " + detail if detail else ""))


def reject_constant(name):
    raise ValueError("%s is not JSON" % name)


def strict_pairs(pairs):
    """JSON objects with unique keys, as the loader demands."""
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError("the key %r appears twice in one object" % key)
        obj[key] = value
    return obj


def load_strict(path):
    """Parses a file as the loader would read it; raises ValueError if the
    schema cannot even be applied (not JSON, duplicate keys, NaN)."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError("not UTF-8: %s" % e)
    try:
        return json.loads(text, object_pairs_hook=strict_pairs, parse_constant=reject_constant)
    except json.JSONDecodeError as e:
        raise ValueError("not JSON: %s" % e)


def expectations(path):
    """The fixture's x-expect object, or {} (also for files that are not JSON)."""
    try:
        with open(path, "rb") as f:
            doc = json.loads(f.read().decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return {}
    if isinstance(doc, dict) and isinstance(doc.get("x-expect"), dict):
        return doc["x-expect"]
    return {}


def schema_verdict(validator, path):
    """(accepted, reason) of the schema for the file."""
    try:
        doc = load_strict(path)
    except ValueError as e:
        return False, str(e)
    try:
        errors = sorted(validator.iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path])
    except RecursionError:
        return False, "nested too deep for the validator"
    if not errors:
        return True, ""
    first = errors[0]
    where = "/".join(str(p) for p in first.absolute_path) or "(top)"
    return False, "%s: %s" % (where, first.message[:200])


def loader_verdict(threadsim, path):
    """(exit status, stdout + stderr) of `threadsim validate FILE`."""
    proc = subprocess.run([threadsim, "validate", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=60)
    return proc.returncode, (proc.stdout + proc.stderr).decode("utf-8", "replace").strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threadsim", required=True, help="path of the threadsim binary")
    ap.add_argument("--source-dir", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                    help="the project's source directory")
    args = ap.parse_args()
    # jsonschema recurses a few dozen frames per level of nested ops
    sys.setrecursionlimit(20000)
    src = args.source_dir
    rel = lambda p: os.path.relpath(p, src)
    checks = Checks()

    with open(os.path.join(src, "docs", "scenario.schema.json"), encoding="utf-8") as f:
        schema = json.load(f)
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
        checks.check(True, "docs/scenario.schema.json is a valid draft 2020-12 schema")
    except jsonschema.exceptions.SchemaError as e:
        checks.check(False, "docs/scenario.schema.json is a valid draft 2020-12 schema", e.message)
        print("%d passed, %d failed" % (checks.passed, checks.failed))
        return 1
    validator = jsonschema.Draft202012Validator(schema)

    scenarios = sorted(glob.glob(os.path.join(src, "scenarios", "**", "*.json"), recursive=True))
    good = sorted(glob.glob(os.path.join(src, "tests", "data", "good", "*.json")))
    bad = sorted(p for p in glob.glob(os.path.join(src, "tests", "data", "bad", "*")) if os.path.isfile(p))
    print("checking %d scenarios, %d good fixtures and %d bad fixtures" % (len(scenarios), len(good), len(bad)))

    for path in scenarios + good:
        accepted, reason = schema_verdict(validator, path)
        checks.check(accepted, "schema accepts %s" % rel(path), reason)
        rc, out = loader_verdict(args.threadsim, path)
        checks.check(rc == 0, "threadsim validate accepts %s" % rel(path), "exit %d: %s" % (rc, out))

    for path in bad:
        expect = expectations(path)
        want_schema = expect.get("schema", "reject")
        accepted, reason = schema_verdict(validator, path)
        if want_schema == "accept":
            checks.check(accepted, "schema accepts %s (%s)" % (rel(path), expect.get("why", "no reason given")),
                         reason)
        else:
            checks.check(not accepted, "schema rejects %s" % rel(path), "the schema accepts it")
        rc, out = loader_verdict(args.threadsim, path)
        checks.check(rc == 2, "threadsim validate rejects %s with exit 2" % rel(path), "exit %d: %s" % (rc, out))
        if "path" in expect:
            # messages read FILE: PATH: MESSAGE
            checks.check(": %s: " % expect["path"] in out, "  ... at %s" % expect["path"], out)
        if "message" in expect:
            checks.check(expect["message"] in out, "  ... saying '%s'" % expect["message"], out)

    # the profile keys: the loader lists the ones it knows when it meets
    # one it does not; the schema must have exactly those
    with tempfile.TemporaryDirectory() as tmp:
        probe = os.path.join(tmp, "profile_keys.json")
        with open(probe, "w") as f:
            json.dump({"machine": {"profile": {"no_such_key": 1}},
                       "processes": [{"name": "p", "threads": [{"name": "main", "program": []}]}]}, f)
        rc, out = loader_verdict(args.threadsim, probe)
    known = re.search(r"known: ([^)]*)\)", out)
    checks.check(rc == 2 and known is not None, "threadsim validate lists the profile keys it knows", out)
    if known:
        loader_keys = set(known.group(1).split(", "))
        schema_keys = set(schema["$defs"]["profile"]["properties"])
        checks.check(loader_keys == schema_keys, "the schema's profile keys are the loader's",
                     "only the loader: %s; only the schema: %s"
                     % (sorted(loader_keys - schema_keys), sorted(schema_keys - loader_keys)))

    print("%d passed, %d failed" % (checks.passed, checks.failed))
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
