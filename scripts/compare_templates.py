#!/usr/bin/env python3
"""Compare two cloud assemblies' templates, ignoring logical ids and stack membership.

usage: compare_templates.py BASELINE_DIR NEW_DIR

Every resource of every stack becomes one canonical record: (Type, properties, DependsOn,
DeletionPolicy, UpdateReplacePolicy, Condition), where
  * Ref / Fn::GetAtt / ${Sub} references to a resource are replaced by the referenced resource's
    identity token (Type + physical name; unnamed resources: Type + a content hash, refined over
    a few rounds so a token does not depend on logical ids either),
  * Fn::ImportValue is replaced by the normalised value the exporting stack exports (so a
    cross-stack import and an in-stack Ref of the same resource compare equal),
  * strings equal to a logical id of the same template (CDK's generated policy names) are
    replaced by that resource's token,
  * the `aws:cdk:path` metadata and the stack-membership tag `concern` are dropped.
The multisets of records are compared across all stacks; unmatched records are paired by
(Type, physical name) and their differences printed leaf by leaf. Outputs are compared as
key -> normalised value across all stacks (CDK's generated Exports* outputs are reported
separately, they name logical ids). Mappings and Conditions are compared as unions.
"""
from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import re
import sys
from collections import Counter
from pathlib import Path

NAME_PROPS = ("BucketName", "TableName", "QueueName", "TopicName", "FunctionName", "RoleName", "Name",
              "DeliveryStreamName", "LogGroupName", "ManagedPolicyName", "AliasName", "StreamName",
              "DBClusterIdentifier", "DBInstanceIdentifier", "AlarmName", "DashboardName", "JobName",
              "ReplicationInstanceIdentifier", "ReplicationTaskIdentifier", "EndpointIdentifier",
              "ReplicationSubnetGroupIdentifier", "DBSubnetGroupName", "DBClusterParameterGroupName",
              "SecurityConfigurationName", "WorkGroup")
PSEUDO = {"AWS::AccountId", "AWS::Region", "AWS::Partition", "AWS::URLSuffix", "AWS::NoValue",
          "AWS::StackName", "AWS::StackId", "AWS::NotificationARNs"}
ROUNDS = 4


def load(directory: Path) -> dict[str, dict]:
    return {p.name.removesuffix(".template.json"): json.loads(p.read_text())
            for p in sorted(directory.glob("*.template.json"))}


class Assembly:
    def __init__(self, templates: dict[str, dict]):
        self.templates = templates
        self.exports: dict[str, tuple[str, object]] = {}
        for stack, t in templates.items():
            for out in t.get("Outputs", {}).values():
                if "Export" in out:
                    name = out["Export"]["Name"]
                    if isinstance(name, str):
                        self.exports[name] = (stack, out["Value"])
        # KMS keys are named by their alias
        self.key_alias: dict[tuple[str, str], str] = {}
        for stack, t in templates.items():
            for res in t.get("Resources", {}).values():
                if res["Type"] == "AWS::KMS::Alias":
                    target = res["Properties"].get("TargetKeyId")
                    if isinstance(target, dict) and "Ref" in target:
                        self.key_alias[(stack, target["Ref"])] = res["Properties"]["AliasName"]
                    elif isinstance(target, dict) and "Fn::GetAtt" in target:
                        self.key_alias[(stack, target["Fn::GetAtt"][0])] = res["Properties"]["AliasName"]
        self.tokens: dict[tuple[str, str], str] = {
            (stack, lid): res["Type"] for stack, t in templates.items() for lid, res in t.get("Resources", {}).items()}
        for _ in range(ROUNDS):
            self.tokens = {(stack, lid): self._token(stack, lid)
                           for stack, t in templates.items() for lid in t.get("Resources", {})}

    # ---- identity of a resource without its logical id ---------------------------------------
    def _token(self, stack: str, lid: str) -> str:
        res = self.templates[stack]["Resources"][lid]
        type_, props = res["Type"], res.get("Properties", {})
        if (stack, lid) in self.key_alias:
            return f"{type_}[{self.key_alias[(stack, lid)]}]"
        for key in NAME_PROPS:
            if key in props:
                return f"{type_}[{json.dumps(self.norm(stack, props[key]), sort_keys=True)}]"
        self._self = (stack, lid)
        digest = hashlib.sha256(json.dumps(self.record(stack, lid), sort_keys=True).encode()).hexdigest()[:10]
        self._self = None
        return f"{type_}#{digest}"

    def token(self, stack: str, lid: str) -> str:
        return self.tokens.get((stack, lid), f"?{lid}")

    # ---- normalisation -----------------------------------------------------------------------
    def norm(self, stack: str, value):
        resources = self.templates[stack].get("Resources", {})
        if isinstance(value, list):
            return [self.norm(stack, v) for v in value]
        if isinstance(value, str):
            if value in resources:
                if getattr(self, "_self", None) == (stack, value):
                    return "<lid:self>"
                return f"<lid:{self.token(stack, value)}>"
            return value
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (fn, arg), = value.items()
            if fn == "Ref" and isinstance(arg, str):
                if arg in PSEUDO:
                    return {"Ref": arg}
                if arg in resources:
                    return {"Ref": self.token(stack, arg)}
                return {"Ref": f"param:{arg}"}
            if fn == "Fn::GetAtt":
                lid, attr = arg if isinstance(arg, list) else arg.split(".", 1)
                return {"GetAtt": [self.token(stack, lid), attr]}
            if fn == "Fn::ImportValue" and isinstance(arg, str) and arg in self.exports:
                source, exported = self.exports[arg]
                return self.norm(source, exported)
            if fn == "Fn::Sub":
                text, variables = (arg, {}) if isinstance(arg, str) else arg

                def one(m: re.Match) -> str:
                    name = m.group(1)
                    if name in variables or name in PSEUDO:
                        return m.group(0)
                    base = name.split(".", 1)[0]
                    if base in resources:
                        rest = name[len(base):]
                        return "${" + self.token(stack, base) + rest + "}"
                    return m.group(0)
                return {"Fn::Sub": [re.sub(r"\$\{([^!}][^}]*)\}", one, text), self.norm(stack, variables)]}
        out = {}
        for k, v in value.items():
            out[k] = self.norm(stack, v)
        return out

    def record(self, stack: str, lid: str) -> dict:
        res = self.templates[stack]["Resources"][lid]
        props = self.norm(stack, res.get("Properties", {}))
        if isinstance(props.get("Tags"), list):  # stack membership tag
            props["Tags"] = [t for t in props["Tags"] if not (isinstance(t, dict) and t.get("Key") == "concern")]
        metadata = {k: v for k, v in res.get("Metadata", {}).items() if k != "aws:cdk:path"}
        depends = res.get("DependsOn", [])
        depends = [depends] if isinstance(depends, str) else depends
        rec = {"Type": res["Type"], "Properties": props,
               "DependsOn": sorted(self.token(stack, d) for d in depends)}
        for key in ("DeletionPolicy", "UpdateReplacePolicy", "Condition", "CreationPolicy", "UpdatePolicy"):
            if key in res:
                rec[key] = self.norm(stack, res[key])
        if metadata:
            rec["Metadata"] = metadata
        return rec

    def records(self) -> list[tuple[str, str, dict]]:
        """Every resource but CDK's version-reporting metadata (compared by inventory())."""
        return [(stack, lid, self.record(stack, lid))
                for stack, t in self.templates.items() for lid, res in t.get("Resources", {}).items()
                if res["Type"] != "AWS::CDK::Metadata"]

    def inventory(self) -> dict[str, set[str]]:
        """Per stack, the construct classes CDK's AWS::CDK::Metadata `Analytics` lists."""
        out = {}
        for stack, t in self.templates.items():
            for res in t.get("Resources", {}).values():
                if res["Type"] == "AWS::CDK::Metadata":
                    packed = res["Properties"]["Analytics"].split(":", 2)[2]
                    out[stack] = set(_expand(gzip.decompress(base64.b64decode(packed)).decode()))
        return out

    def outputs(self) -> tuple[dict[str, object], dict[str, object]]:
        mine, generated = {}, {}
        for stack, t in self.templates.items():
            for key, out in t.get("Outputs", {}).items():
                target = generated if key.startswith("ExportsOutput") else mine
                if key in target:
                    target[f"{key} (duplicate in {stack})"] = self.norm(stack, out["Value"])
                else:
                    target[key] = self.norm(stack, out["Value"])
        return mine, generated

    def union(self, section: str) -> dict:
        merged = {}
        for stack, t in self.templates.items():
            for k, v in t.get(section, {}).items():
                merged[k] = self.norm(stack, v)
        return merged


def _expand(text: str) -> list[str]:
    """CDK's prefix-compressed list, e.g. "a.{b,c.{d,e}}" -> ["a.b", "a.c.d", "a.c.e"]."""
    def parse(i: int) -> tuple[list[str], int]:
        items, prefix = [], ""
        while i < len(text):
            ch = text[i]
            if ch == "{":
                inner, i = parse(i + 1)
                items += [prefix + x for x in inner]
                prefix = ""
                continue
            if ch in ",}":
                if prefix:
                    items.append(prefix)
                prefix = ""
                i += 1
                if ch == "}":
                    return items, i
                continue
            prefix += ch
            i += 1
        if prefix:
            items.append(prefix)
        return items, i
    return parse(0)[0]


def canon(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def leaf_diff(a, b, path="") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            if k not in a:
                out.append(f"    + {path}/{k} = {canon(b[k])[:300]}")
            elif k not in b:
                out.append(f"    - {path}/{k} = {canon(a[k])[:300]}")
            else:
                out += leaf_diff(a[k], b[k], f"{path}/{k}")
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        out = []
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            out += leaf_diff(x, y, f"{path}[{i}]")
        return out
    if a != b:
        tag = "  [asset hash]" if _HEX.sub("<hash>", canon(a)) == _HEX.sub("<hash>", canon(b)) else ""
        return [f"    ~ {path}: {canon(a)[:300]}  ->  {canon(b)[:300]}{tag}"]
    return []


_HEX = re.compile(r"[0-9a-f]{64}")


def main(base_dir: str, new_dir: str) -> int:
    base, new = Assembly(load(Path(base_dir))), Assembly(load(Path(new_dir)))
    problems = 0
    b_recs, n_recs = base.records(), new.records()
    b_count, n_count = Counter(canon(r) for *_, r in b_recs), Counter(canon(r) for *_, r in n_recs)
    print(f"stacks: baseline {len(base.templates)}, new {len(new.templates)}")
    print(f"resources: baseline {len(b_recs)}, new {len(n_recs)}; identical after normalisation: "
          f"{sum((b_count & n_count).values())}")

    # moves: same record, other stack or other logical id
    b_where: dict[str, list[tuple[str, str]]] = {}
    for s, lid, r in b_recs:
        b_where.setdefault(canon(r), []).append((s, lid))
    moved_stack, renamed, renames = [], 0, []
    b_lids = Counter((canon(r), lid) for _, lid, r in b_recs)
    for s, lid, r in n_recs:
        c = canon(r)
        if c in b_where:  # identical twins: the baseline one whose logical id shares the longest prefix
            bs, blid = max(b_where[c], key=lambda w: len(os.path.commonprefix([w[1], lid])))
            if bs != s and b_count[c] == 1:
                moved_stack.append((r["Type"], new.token(s, lid), bs, s))
            if b_lids[(c, lid)] == 0:
                renamed += 1
                renames.append(f"    {bs}/{blid} -> {s}/{lid}")
    print(f"same resource, logical id changed: {renamed}")
    for line in sorted(renames):
        print(line)
    print(f"same resource, stack changed: {len(moved_stack)}")
    for _type, tok, bs, s in sorted(moved_stack):
        print(f"    {tok}: {bs} -> {s}")

    only_b = b_count - n_count
    only_n = n_count - b_count
    def key(rec):
        m = re.match(r"^[^\[#]+\[(.*)\]$", base_or_new_token(rec))
        return (rec["Type"], m.group(1) if m else None)

    def base_or_new_token(rec):
        return rec.get("_tok", "")
    b_unmatched = [dict(r, _tok=base.token(s, lid)) for s, lid, r in b_recs if only_b.get(canon(r), 0) > 0]
    n_unmatched = [dict(r, _tok=new.token(s, lid)) for s, lid, r in n_recs if only_n.get(canon(r), 0) > 0]
    print(f"\nresources differing after normalisation: baseline-only {sum(only_b.values())}, "
          f"new-only {sum(only_n.values())}")
    n_by_key = {}
    for r in n_unmatched:
        n_by_key.setdefault(key(r), []).append(r)
    hashes = 0
    for r in b_unmatched:
        k = key(r)
        partners = n_by_key.get(k) if k[1] is not None else None
        if partners:
            other = partners.pop(0)
            print(f"  CHANGED {r['_tok']}")
            a = {x: y for x, y in r.items() if x != "_tok"}
            b = {x: y for x, y in other.items() if x != "_tok"}
            for line in leaf_diff(a, b):
                print(line)
                if line.endswith("[asset hash]"):
                    hashes += 1
                else:
                    problems += 1
        else:
            problems += 1
            print(f"  ONLY IN BASELINE {r['_tok']}")
    for rest in n_by_key.values():
        for r in rest:
            problems += 1
            print(f"  ONLY IN NEW {r['_tok']}")

    b_out, b_gen = base.outputs()
    n_out, n_gen = new.outputs()
    print(f"\noutputs: baseline {len(b_out)}, new {len(n_out)} (key -> value, across stacks)")
    out_diff = leaf_diff(b_out, n_out)
    for line in out_diff:
        print(line)
    problems += len(out_diff)
    if not out_diff:
        print("    all output keys and values identical")
    b_where_out = {k: s for s, t in base.templates.items() for k in t.get("Outputs", {}) if not k.startswith("Exports")}
    n_where_out = {k: s for s, t in new.templates.items() for k in t.get("Outputs", {}) if not k.startswith("Exports")}
    for k in sorted(set(b_where_out) & set(n_where_out)):
        if b_where_out[k] != n_where_out[k]:
            print(f"    output {k} moved: {b_where_out[k]} -> {n_where_out[k]}")
    print(f"generated export outputs (name logical ids, informational): baseline {len(b_gen)}, new {len(n_gen)}; "
          f"exported values identical: {sorted(map(canon, b_gen.values())) == sorted(map(canon, n_gen.values()))}")
    b_inv, n_inv = base.inventory(), new.inventory()
    inv_lines = []
    for stack in sorted(set(b_inv) | set(n_inv)):
        added, removed = n_inv.get(stack, set()) - b_inv.get(stack, set()), b_inv.get(stack, set()) - n_inv.get(stack, set())
        if added or removed:
            inv_lines.append(f"    {stack}: +{sorted(added)} -{sorted(removed)}")
    print("CDK version-reporting metadata (construct classes per stack): "
          + ("identical" if not inv_lines else "differs (follows resources between stacks)"))
    for line in inv_lines:
        print(line)
    for section in ("Mappings", "Conditions", "Parameters", "Rules"):
        d = leaf_diff(base.union(section), new.union(section))
        print(f"{section}: {'identical' if not d else 'DIFFER'}")
        for line in d:
            print(line)
        problems += len(d)
    print(f"\nSUMMARY: {problems} difference(s) not explained by moves (logical id, stack), "
          f"plus {hashes} asset content hash(es); all listed above")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
