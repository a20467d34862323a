# Builds a .ipynb for the moelab kernel from a text file: cells start at lines "#%% md", "#%% code" or "#%% code <tags...>" (e.g. "#%% code parameters").
# Exercise notebooks (exercises/src/*.src) add nbgrader cell metadata (schema 3) with key=value words on the same line:
#   "#%% code solution=ID"         autograded answer (student code; "### BEGIN SOLUTION" / "### END SOLUTION" inside)
#   "#%% code tests=ID points=N"   autograded tests (locked; "### BEGIN HIDDEN TESTS" / "### END HIDDEN TESTS" inside)
#   "#%% md answer=ID points=N"    manually graded answer (open question; the model answer between solution markers)
#   "#%% code locked=ID" / "#%% md locked=ID"   read-only cell (setup, instructions)
# Usage: /usr/bin/python3 scripts/mknb.py notebook.src notebooks/name.ipynb
import json, sys

ROLES = {  # role → nbgrader flags
    "solution": {"solution": True, "grade": False, "locked": False},
    "tests": {"solution": False, "grade": True, "locked": True},
    "answer": {"solution": True, "grade": True, "locked": False},
    "locked": {"solution": False, "grade": False, "locked": True},
}


def cell_metadata(words, where):
    tags = [w for w in words if "=" not in w]
    opts = dict(w.split("=", 1) for w in words if "=" in w)
    meta = {"tags": tags} if tags else {}
    roles = [r for r in ROLES if r in opts]
    if len(roles) > 1:
        sys.exit(f"{where}: a cell has one nbgrader role, got {roles}")
    if roles:
        role = roles[0]
        nbg = dict(ROLES[role], grade_id=opts[role], schema_version=3)
        if nbg["grade"]:
            if "points" not in opts:
                sys.exit(f"{where}: a graded cell ({role}=) needs points=N")
            nbg["points"] = float(opts["points"])
        meta["nbgrader"] = nbg
        meta["deletable"] = False
        if nbg["locked"]:
            meta["editable"] = False
    unknown = set(opts) - set(ROLES) - {"points"}
    if unknown:
        sys.exit(f"{where}: unknown cell option(s) {sorted(unknown)}")
    return meta


src, out = sys.argv[1], sys.argv[2]
cells = []
cur = None
for n, line in enumerate(open(src).read().split("\n"), 1):
    if line.startswith("#%%"):
        parts = line.split()
        cur = {"kind": parts[1], "words": parts[2:], "lines": [], "where": f"{src}:{n}"}
        cells.append(cur)
    else:
        cur["lines"].append(line)
nb_cells = []
ids = set()
for c in cells:
    while c["lines"] and c["lines"][-1] == "":
        c["lines"].pop()
    text = "\n".join(c["lines"])
    source = [l + "\n" for l in text.split("\n")]
    source[-1] = source[-1].rstrip("\n")
    meta = cell_metadata(c["words"], c["where"])
    gid = meta.get("nbgrader", {}).get("grade_id")
    if gid is not None:
        if gid in ids:
            sys.exit(f"{c['where']}: grade_id {gid} is used twice")
        ids.add(gid)
    if c["kind"] == "md":
        nb_cells.append({"cell_type": "markdown", "metadata": meta, "source": source})
    else:
        nb_cells.append({"cell_type": "code", "execution_count": None, "metadata": meta, "outputs": [], "source": source})
nb = {"cells": nb_cells, "metadata": {
    "kernelspec": {"display_name": "MoE Lab (TypeScript)", "language": "typescript", "name": "moelab"},
    "language_info": {"name": "typescript", "file_extension": ".ts", "mimetype": "text/typescript"}},
    "nbformat": 4, "nbformat_minor": 5}
for i, c in enumerate(nb["cells"]):
    c["id"] = f"cell-{i:02d}"
json.dump(nb, open(out, "w"), indent=1, ensure_ascii=False)
open(out, "a").write("\n")
