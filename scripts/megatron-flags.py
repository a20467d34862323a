# Writes test/fixtures/megatron-arguments.json: every command-line flag that Megatron-LM's
# megatron/training/arguments.py declares with add_argument, at one commit (the file lists them explicitly there;
# later commits generate many from dataclasses), and the allowed values of those declared with choices=[...].
# Usage: git -C <Megatron-LM clone> show <commit>:megatron/training/arguments.py > /tmp/arguments.py
#        /usr/bin/python3 scripts/megatron-flags.py /tmp/arguments.py <commit> test/fixtures/megatron-arguments.json
import json, re, sys
src, commit, out = sys.argv[1], sys.argv[2], sys.argv[3]
text = open(src).read()
flags = set()
choices = {}
calls = list(re.finditer(r"add_argument\(\s*((?:['\"]-{1,2}[A-Za-z0-9_-]+['\"]\s*,\s*)+)", text))
for i, m in enumerate(calls):
    names = re.findall(r"['\"](--[A-Za-z0-9_-]+)['\"]", m.group(1))
    flags.update(names)
    body = text[m.end(): calls[i + 1].start() if i + 1 < len(calls) else len(text)]
    c = re.search(r"choices\s*=\s*\[([^\]]*)\]", body)
    if c and names:
        values = re.findall(r"['\"]([^'\"]+)['\"]", c.group(1))
        if values:
            choices[names[0]] = values
json.dump({"repository": "https://github.com/NVIDIA/Megatron-LM", "path": "megatron/training/arguments.py",
           "commit": commit, "flags": sorted(flags), "choices": dict(sorted(choices.items()))}, open(out, "w"), indent=1)
open(out, "a").write("\n")
print(len(flags), "flags")
