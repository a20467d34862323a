# Builds a .ipynb for the moelab kernel from a text file: cells start at lines "#%% md", "#%% code" or "#%% code <tags...>" (e.g. "#%% code parameters").
# Usage: /usr/bin/python3 scripts/mknb.py notebook.src notebooks/name.ipynb
import json, sys
src, out = sys.argv[1], sys.argv[2]
cells = []
cur = None
for line in open(src).read().split("\n"):
    if line.startswith("#%%"):
        parts = line.split()
        cur = {"kind": parts[1], "tags": parts[2:], "lines": []}
        cells.append(cur)
    else:
        cur["lines"].append(line)
nb_cells = []
for c in cells:
    while c["lines"] and c["lines"][-1] == "":
        c["lines"].pop()
    text = "\n".join(c["lines"])
    source = [l + "\n" for l in text.split("\n")]
    source[-1] = source[-1].rstrip("\n")
    meta = {"tags": c["tags"]} if c["tags"] else {}
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
