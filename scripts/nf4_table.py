# NF4 code values (Dettmers et al. 2023, QLoRA, Appendix E / bitsandbytes create_normal_map(offset=0.9677083,
# use_extra_value=True)): 8 positive and 7 negative quantiles of N(0, 1) and an exact zero, normalised to [-1, 1].
# Prints them as float32 values for lib/quant/formats.ts (NF4_VALUES). Usage: /usr/bin/python3 scripts/nf4_table.py
import json
import torch

def ppf(p):
    return (2 ** 0.5) * torch.erfinv(2 * torch.tensor(p, dtype=torch.float64) - 1)

offset = 0.9677083
positive = [float(ppf(float(p))) for p in torch.linspace(offset, 0.5, 9, dtype=torch.float64)[:-1]]
negative = [-float(ppf(float(p))) for p in torch.linspace(offset, 0.5, 8, dtype=torch.float64)[:-1]]
values = sorted(positive + [0.0] + negative)
top = max(values)
print(json.dumps([float(torch.tensor(v / top, dtype=torch.float32)) for v in values]))
