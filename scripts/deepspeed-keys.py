# Writes test/fixtures/deepspeed-config-keys.json: the DeepSpeed config keys lab.plan.deepspeedConfig may emit, read from
# DeepSpeed's source at one commit: top-level keys (string constants in deepspeed/runtime/constants.py), the fields of
# DeepSpeedZeroConfig (deepspeed/runtime/zero/config.py) and the activation-checkpointing keys
# (deepspeed/runtime/activation_checkpointing/config.py), with the section names defined in those two files.
# Usage: /usr/bin/python3 scripts/deepspeed-keys.py <DeepSpeed git dir> <commit> test/fixtures/deepspeed-config-keys.json
import json, re, subprocess, sys
repo, commit, out = sys.argv[1], sys.argv[2], sys.argv[3]
show = lambda path: subprocess.run(["git", "-C", repo, "show", f"{commit}:{path}"], check=True, capture_output=True, text=True).stdout
constants = show("deepspeed/runtime/constants.py")
top = sorted(set(re.findall(r'^[A-Z0-9_]+ = ["\']([a-z0-9_]+)["\']\s*(?:#.*)?$', constants, re.M)))
zero_src = show("deepspeed/runtime/zero/config.py")
body = zero_src[zero_src.index("class DeepSpeedZeroConfig"):]
body = body[: body.index("\n    @")] if "\n    @" in body else body
zero = sorted(set(re.findall(r"^    ([a-z0-9_]+): ", body, re.M)) | set(re.findall(r'alias="([a-z0-9_]+)"', body)))
act_src = show("deepspeed/runtime/activation_checkpointing/config.py")
act = sorted(set(re.findall(r"^ACT_CHKPT_[A-Z_]+ = '([a-z_]+)'", act_src, re.M)))
# the section names live next to their configs
top = sorted(set(top) | set(re.findall(r'^ZERO_OPTIMIZATION = "([a-z_]+)"', zero_src, re.M)) | set(re.findall(r"^ACT_CHKPT = '([a-z_]+)'", act_src, re.M)))
json.dump({"repository": "https://github.com/microsoft/DeepSpeed", "commit": commit, "top": top, "zero_optimization": zero,
           "activation_checkpointing": act}, open(out, "w"), indent=1)
open(out, "a").write("\n")
print(len(top), len(zero), len(act))
