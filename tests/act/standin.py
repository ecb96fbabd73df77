#!/usr/bin/env python3
"""The stand-ins of tests/act.rs for what act cannot reach without GitHub (see README.md here).

    standin.py upload | download | cache-restore | cache-save   (from the stand-in actions)
    standin.py gh ARGS...                                        (bin/gh)

The actions' inputs arrive as environment variables (their action.yml sets them). Everything
goes to folders the test made: $PERFGATE_ACT_ARTIFACTS (one workflow run's artifacts),
$PERFGATE_ACT_CACHE (the cache, across runs) and $PERFGATE_ACT_GH (gh's state and call log).
"""
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import tarfile


def fail(msg):
    # The runner's annotation, as the real actions print theirs.
    print(f"::error::{msg}")
    sys.exit(1)


def output(name, value):
    with open(os.environ["GITHUB_OUTPUT"], "a") as f:
        f.write(f"{name}={value}\n")


def paths(var):
    return [p.strip() for p in os.environ.get(var, "").splitlines() if p.strip()]


def artifacts():
    store = os.environ.get("PERFGATE_ACT_ARTIFACTS")
    if not store:
        fail("PERFGATE_ACT_ARTIFACTS is not set")
    os.makedirs(store, exist_ok=True)
    return store


def upload():
    name = os.environ["NAME"]
    dest = os.path.join(artifacts(), name)
    if os.path.exists(dest):
        if os.environ.get("OVERWRITE") != "true":
            # As the real v4: one artifact per name and run.
            fail(f"an artifact with the name {name} already exists in this run")
        shutil.rmtree(dest)
    roots, files = [], []
    for p in paths("PATHS"):
        p = os.path.abspath(p)
        if os.path.isdir(p):
            roots.append(p)
            for d, _, fs in os.walk(p):
                files += [os.path.join(d, f) for f in fs]
        elif os.path.isfile(p):
            roots.append(os.path.dirname(p))
            files.append(p)
    if not files:
        mode = os.environ.get("IF_NO_FILES", "warn")
        msg = f"no files were found with the provided path for artifact {name}"
        if mode == "error":
            fail(msg)
        if mode == "warn":
            print(f"::warning::{msg}")
        return
    # As the real one: paths relative to the least common ancestor of the search paths.
    root = os.path.commonpath(roots)
    for f in files:
        target = os.path.join(dest, os.path.relpath(f, root))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(f, target)
    print(f"uploaded {len(files)} file(s) as artifact {name}")
    output("artifact-id", str(len(os.listdir(artifacts()))))
    output("artifact-url", "file://" + dest)


def download():
    store = artifacts()
    name, pattern = os.environ.get("NAME", ""), os.environ.get("PATTERN", "")
    dest = os.path.abspath(os.environ.get("DEST") or os.environ["GITHUB_WORKSPACE"])
    if name:
        if not os.path.isdir(os.path.join(store, name)):
            fail(f"Unable to download artifact(s): Artifact not found for name: {name}")
        chosen, merge = [name], True
    else:
        chosen = sorted(a for a in os.listdir(store) if fnmatch.fnmatch(a, pattern or "*"))
        merge = os.environ.get("MERGE") == "true"
    for a in chosen:
        target = dest if merge else os.path.join(dest, a)
        shutil.copytree(os.path.join(store, a), target, dirs_exist_ok=True)
    print(f"downloaded {len(chosen)} artifact(s) to {dest}")
    output("download-path", dest)


def cache_dir():
    store = os.environ.get("PERFGATE_ACT_CACHE")
    if not store:
        fail("PERFGATE_ACT_CACHE is not set")
    os.makedirs(store, exist_ok=True)
    return store


def entry(key):
    # Keys hold only [A-Za-z0-9._-] in our workflows; anything else is refused, not mangled.
    if not key or any(not (c.isalnum() or c in "._-") for c in key):
        fail(f"the stand-in cache takes keys of [A-Za-z0-9._-] only, not {key!r}")
    return os.path.join(cache_dir(), key + ".tar")


def members(workspace):
    """The cache's paths, relative to the workspace (with `..` for those outside it, such as
    $RUNNER_TEMP), as the real cache stores them: a later job restores them at the same place
    relative to its own workspace."""
    return [os.path.relpath(os.path.abspath(os.path.join(workspace, p)), workspace) for p in paths("PATHS")]


def cache_save():
    key = os.environ["KEY"]
    path = entry(key)
    if os.path.exists(path):
        # As the real one: an entry is never overwritten.
        print(f"::warning::Failed to save: Unable to reserve cache with key {key}, another job may be creating this cache.")
        return
    workspace = os.environ["GITHUB_WORKSPACE"]
    found = [m for m in members(workspace) if os.path.exists(os.path.join(workspace, m))]
    if not found:
        print("::warning::Path Validation Error: Path(s) specified in the action for caching do(es) not exist, hence no cache is being saved.")
        return
    tmp = path + ".partial"
    # tar keeps modification times, which cargo's freshness checks read.
    with tarfile.open(tmp, "w") as t:
        for m in found:
            t.add(os.path.join(workspace, m), arcname="ws/" + m)
    os.replace(tmp, path)
    print(f"Cache saved with key: {key}")


def cache_restore():
    key = os.environ["KEY"]
    output("cache-primary-key", key)
    matched = None
    if os.path.exists(entry(key)):
        matched = key
    else:
        for prefix in paths("RESTORE_KEYS"):
            hits = [f[: -len(".tar")] for f in os.listdir(cache_dir()) if f.startswith(prefix) and f.endswith(".tar")]
            if hits:
                # The newest entry of the first prefix that matches, as the real one.
                matched = max(hits, key=lambda k: os.path.getmtime(entry(k)))
                break
    if matched is None:
        if os.environ.get("FAIL_ON_MISS") == "true":
            fail(f"Failed to restore cache entry. Exiting as fail-on-cache-miss is set. Input key: {key}")
        print(f"Cache not found for input keys: {key}")
        output("cache-hit", "false")
        return
    output("cache-matched-key", matched)
    output("cache-hit", "true" if matched == key else "false")
    if os.environ.get("LOOKUP_ONLY") == "true":
        print(f"Cache found with key: {matched}")
        return
    workspace = os.environ["GITHUB_WORKSPACE"]
    with tarfile.open(entry(matched)) as t:
        for m in t.getmembers():
            m.name = os.path.normpath(os.path.join(workspace, m.name[len("ws/"):]))
            if m.islnk():
                # A hard link names another member of the archive (cargo links its outputs).
                m.linkname = os.path.normpath(os.path.join(workspace, m.linkname[len("ws/"):]))
        t.extractall("/", filter="fully_trusted")
    print(f"Cache restored from key: {matched}")


# gh: the calls of perf-comment.yml and baseline-refresh.yml.


def gh_state():
    path = os.environ.get("PERFGATE_ACT_GH")
    if not path:
        print("gh (act stand-in): PERFGATE_ACT_GH is not set", file=sys.stderr)
        sys.exit(4)
    with open(path) as f:
        return path, json.load(f)


def gh(args):
    path, state = gh_state()
    state.setdefault("calls", []).append({"args": args, "token": bool(os.environ.get("GH_TOKEN"))})

    def save():
        with open(path + ".partial", "w") as f:
            json.dump(state, f, indent=1)
        os.replace(path + ".partial", path)

    def opt(name, default=None):
        return args[args.index(name) + 1] if name in args else default

    save()
    if args[:2] == ["auth", "setup-git"]:
        return 0
    if args[:2] == ["pr", "create"]:
        print("https://github.com/owner/repo/pull/999")
        return 0
    if args[:2] == ["run", "download"]:
        src = os.path.join(artifacts(), opt("--name", ""))
        if not os.path.isdir(src):
            print(f"no artifact matches any of the names or patterns provided", file=sys.stderr)
            return 1
        shutil.copytree(src, opt("--dir", "."), dirs_exist_ok=True)
        return 0
    if args[0] != "api":
        print(f"gh (act stand-in): no stand-in for gh {' '.join(args)}", file=sys.stderr)
        return 4
    method = opt("--method", "GET")
    endpoint = next(a for a in args[1:] if a.startswith("repos/"))
    parts = endpoint.split("/")
    body = None
    for i, a in enumerate(args):
        if a == "-F" and args[i + 1].startswith("body=@"):
            with open(args[i + 1][len("body=@"):]) as f:
                body = f.read()
    comments = state.setdefault("comments", {})
    if method == "GET" and parts[3] == "pulls":
        pull = state.get("pulls", {}).get(parts[4])
        if pull is None:
            print("gh: Not Found (HTTP 404)", file=sys.stderr)
            return 1
        result = {"number": int(parts[4]), "head": {"sha": pull["head_sha"]}}
    elif method == "GET" and parts[3:] == ["issues", parts[4], "comments"]:
        result = comments.get(parts[4], [])
    elif method == "POST" and parts[3] == "issues" and parts[5] == "comments":
        state["next_id"] = state.get("next_id", 1000) + 1
        result = {"id": state["next_id"], "user": {"login": "github-actions[bot]"}, "body": body}
        comments.setdefault(parts[4], []).append(result)
    elif method == "PATCH" and parts[3:5] == ["issues", "comments"]:
        hit = [c for cs in comments.values() for c in cs if str(c["id"]) == parts[5]]
        if not hit:
            print("gh: Not Found (HTTP 404)", file=sys.stderr)
            return 1
        hit[0]["body"] = body
        result = hit[0]
    else:
        print(f"gh (act stand-in): no stand-in for {method} {endpoint}", file=sys.stderr)
        return 4
    save()
    if "--silent" in args:
        return 0
    jq = opt("--jq")
    text = json.dumps(result)
    if jq:
        text = subprocess.run(["jq", "-r", jq], input=text, capture_output=True, text=True, check=True).stdout
        sys.stdout.write(text)
    else:
        print(text)
    return 0


def main():
    cmd = sys.argv[1]
    if cmd == "gh":
        sys.exit(gh(sys.argv[2:]))
    {"upload": upload, "download": download, "cache-restore": cache_restore, "cache-save": cache_save}[cmd]()


if __name__ == "__main__":
    main()
