#!/usr/bin/env python3
"""Checks of the visit-counter chart for a machine without helm (see the README's Helm section).

1. Static: Chart.yaml is a Helm 3 chart; every `.Values.x` a template reads exists in
   values.yaml; every value is documented by a comment (blocks handed to `toYaml` are
   Kubernetes fields and exempt); every `include` names a `define`; blocks are balanced.
2. An APPROXIMATE render: a small Go-template interpreter that knows only the functions this
   chart uses, run with the default values and a few variants. Its output is parsed as YAML
   and cross-checked (selectors, named ports, service names in BACKENDS_DNS and REDIS_URL,
   security contexts). It is not Helm: `helm lint` / `helm template` remain the real test.
3. With helm on PATH (CI installs it): each variant rendered by `helm template` too, the same
   cross-checks run on Helm's output, and Helm's manifests must equal the approximate ones,
   so the approximation is known to hold wherever helm is missing.

Usage: python3 check-chart.py CHART_DIR [OUT_DIR]   (OUT_DIR receives the rendered manifests)
"""

import copy
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

FAILURES = []


def fail(message):
    FAILURES.append(message)


# ---- Go templates: tokens, tree, evaluation (only what this chart uses) ---------------------

ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.S)


def tokenize(text):
    """Text and actions, with `{{-` / `-}}` whitespace trimming applied to the text."""
    tokens, pos = [], 0
    for match in ACTION.finditer(text):
        tokens.append(["text", text[pos:match.start()]])
        if match.group(1) and tokens[-1][0] == "text":
            tokens[-1][1] = tokens[-1][1].rstrip()
        tokens.append(["action", match.group(2).strip(), bool(match.group(3))])
        pos = match.end()
    tokens.append(["text", text[pos:]])
    for i, token in enumerate(tokens):
        if token[0] == "action" and token[2] and i + 1 < len(tokens):
            tokens[i + 1][1] = tokens[i + 1][1].lstrip()
    return tokens


def parse(tokens, defines):
    """A list of nodes; `define` bodies go to `defines`."""
    stack = [("root", [])]
    for token in tokens:
        if token[0] == "text":
            if token[1]:
                stack[-1][1].append(("text", token[1]))
            continue
        src = token[1]
        if src.startswith("/*"):
            continue
        word = src.split(None, 1)[0] if src else ""
        rest = src[len(word):].strip()
        if word in ("if", "range", "with", "define"):
            node = {"kind": word, "arg": rest, "branches": [(rest, [])], "else": None}
            stack[-1][1].append(("block", node))
            stack.append((node, node["branches"][0][1]))
        elif word == "else":
            node = stack[-1][0]
            if rest.startswith("if "):
                node["branches"].append((rest[3:].strip(), []))
                stack[-1] = (node, node["branches"][-1][1])
            else:
                node["else"] = []
                stack[-1] = (node, node["else"])
        elif word == "end":
            node, _ = stack.pop()
            if node == "root":
                raise SyntaxError("`end` without a block")
            if node["kind"] == "define":
                defines[node["arg"].strip('"')] = node["branches"][0][1]
        else:
            stack[-1][1].append(("action", src))
    if len(stack) != 1:
        raise SyntaxError("a block is not closed by `end`")
    return [n for n in stack[0][1] if not (n[0] == "block" and n[1]["kind"] == "define")]


def split_top(src, sep):
    """Splits on `sep` outside quotes and parentheses."""
    parts, depth, quote, current = [], 0, None, ""
    for ch in src:
        if quote:
            current += ch
            if ch == quote:
                quote = None
            continue
        if ch in "\"`":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if depth == 0 and (ch == sep if sep != " " else ch.isspace()):
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return [p.strip() for p in parts if p.strip()]


def to_yaml(value):
    if value in ({}, []):
        return "{}" if value == {} else "[]"
    return yaml.safe_dump(value, default_flow_style=False, sort_keys=True).rstrip("\n")


def truthy(value):
    return value not in (None, False, 0, "", {}, [])


def text_of(value):
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def go_printf(fmt, *args):
    args = iter(args)
    return re.sub(r"%[sdv]", lambda m: text_of(next(args)), fmt)


class Renderer:
    def __init__(self, defines):
        self.defines = defines
        self.funcs = {
            "include": lambda name, dot: self.render(self.defines[name], dot, {"$": dot}),
            "dict": lambda *kv: {kv[i]: kv[i + 1] for i in range(0, len(kv), 2)},
            # sprig pads every line, empty ones included.
            "nindent": lambda n, s: "\n" + "\n".join(" " * n + line for line in text_of(s).split("\n")),
            "toYaml": to_yaml,
            "quote": lambda s: '"' + text_of(s).replace("\\", "\\\\").replace('"', '\\"') + '"',
            "printf": go_printf,
            "default": lambda fallback, given=None: given if truthy(given) else fallback,
            "trunc": lambda n, s: s[:n],
            "trimSuffix": lambda suffix, s: s[: -len(suffix)] if suffix and s.endswith(suffix) else s,
            "replace": lambda old, new, s: s.replace(old, new),
            "sha256sum": lambda s: hashlib.sha256(text_of(s).encode()).hexdigest(),
            "toString": text_of,
            "int": lambda v: int(v or 0),
            "and": lambda *a: next((x for x in a if not truthy(x)), a[-1]),
            "or": lambda *a: next((x for x in a if truthy(x)), a[-1]),
            "not": lambda v: not truthy(v),
            "eq": lambda a, b: a == b,
            "gt": lambda a, b: a > b,
        }

    def operand(self, src, dot, scope):
        if src.startswith("(") and src.endswith(")"):
            return self.pipeline(src[1:-1], dot, scope)
        if src.startswith('"'):
            return src[1:-1].replace('\\"', '"')
        if re.fullmatch(r"-?\d+", src):
            return int(src)
        if src in ("true", "false"):
            return src == "true"
        if src.startswith("$"):
            name, _, path = src.partition(".")
            value = scope[name]
        elif src.startswith("."):
            value, path = dot, src[1:]
        else:
            raise NameError(f"unknown operand {src}")
        for key in filter(None, path.split(".")):
            value = value.get(key) if isinstance(value, dict) else None
        return value

    def command(self, src, dot, scope, piped):
        words = split_top(src, " ")
        if words[0] in self.funcs:
            args = [self.operand(w, dot, scope) for w in words[1:]] + piped
            return self.funcs[words[0]](*args)
        if words[0] not in self.funcs and len(words) == 1 and not piped:
            return self.operand(words[0], dot, scope)
        raise NameError(f"unknown function in `{src}`")

    def pipeline(self, src, dot, scope):
        value, first = None, True
        for part in split_top(src, "|"):
            value = self.command(part, dot, scope, [] if first else [value])
            first = False
        return value

    def render(self, nodes, dot, scope):
        out = []
        for kind, node in nodes:
            if kind == "text":
                out.append(node)
            elif kind == "action":
                assign = re.fullmatch(r"(\$\w+)\s*:=\s*(.+)", node, re.S)
                if assign:
                    scope[assign.group(1)] = self.pipeline(assign.group(2), dot, scope)
                else:
                    out.append(text_of(self.pipeline(node, dot, scope)))
            else:
                out.append(self.block(node, dot, dict(scope)))
        return "".join(out)

    def block(self, node, dot, scope):
        if node["kind"] == "if":
            for cond, body in node["branches"]:
                if truthy(self.pipeline(cond, dot, scope)):
                    return self.render(body, dot, scope)
        elif node["kind"] == "with":
            value = self.pipeline(node["arg"], dot, scope)
            if truthy(value):
                return self.render(node["branches"][0][1], value, scope)
        elif node["kind"] == "range":
            names, _, src = node["arg"].partition(":=")
            names = [n.strip() for n in names.split(",")]
            value = self.pipeline(src, dot, scope) or {}
            items = sorted(value.items()) if isinstance(value, dict) else list(enumerate(value))
            out = []
            for key, item in items:
                inner = dict(scope)
                inner[names[0]], inner[names[-1]] = (key, item) if len(names) == 2 else (item, item)
                out.append(self.render(node["branches"][0][1], item, inner))
            if items:
                return "".join(out)
        return self.render(node["else"], dot, scope) if node["else"] is not None else ""


# ---- checks -----------------------------------------------------------------------------------


def deep_merge(base, override):
    result = copy.deepcopy(base)
    for key, value in override.items():
        result[key] = deep_merge(result[key], value) if isinstance(value, dict) and isinstance(result.get(key), dict) else value
    return result


def has_path(values, path):
    for key in path:
        if not isinstance(values, dict) or key not in values:
            return False
        values = values[key]
    return True


def check_static(chart_dir, chart, values, sources):
    for field in ("apiVersion", "name", "version", "appVersion"):
        if not chart.get(field):
            fail(f"Chart.yaml: `{field}` is missing")
    if chart.get("apiVersion") != "v2":
        fail("Chart.yaml: apiVersion must be v2 (Helm 3)")
    everything = "\n".join(sources.values())
    for name, text in sources.items():
        for match in re.finditer(r"\.Values((?:\.\w+)+)", text):
            path = match.group(1).strip(".").split(".")
            if not has_path(values, path):
                fail(f"{name}: .Values.{'.'.join(path)} is not in values.yaml")
        for match in re.finditer(r'include\s+"([^"]+)"', text):
            if f'define "{match.group(1)}"' not in everything:
                fail(f"{name}: include \"{match.group(1)}\" has no define")
    # Every key of values.yaml has a comment line above it, except inside blocks the
    # templates pass whole to toYaml (their keys are Kubernetes' own fields).
    exempt = {m.group(1) for m in re.finditer(r"toYaml \.Values\.([\w.]+)", everything)}
    lines = open(os.path.join(chart_dir, "values.yaml")).read().split("\n")
    parents = []
    for i, line in enumerate(lines):
        match = re.match(r"^(\s*)(\w+):", line)
        if not match:
            continue
        indent = len(match.group(1))
        parents = [(d, k) for d, k in parents if d < indent]
        path = ".".join([k for _, k in parents] + [match.group(2)])
        parents.append((indent, match.group(2)))
        if any(path.startswith(e + ".") for e in exempt):
            continue
        if not lines[i - 1].strip().startswith("#"):
            fail(f"values.yaml:{i + 1}: `{path}` has no comment above it")


def pod_labels(doc):
    return doc["spec"]["template"]["metadata"]["labels"]


def check_rendered(variant, docs, values, release):
    by_kind = {}
    for doc in docs:
        by_kind.setdefault(doc["kind"], []).append(doc)
        name = doc["metadata"]["name"]
        if len(name) > 63 or not re.fullmatch(r"[a-z]([-a-z0-9]*[a-z0-9])?", name):
            fail(f"{variant}: {doc['kind']} name {name!r} is not a DNS label")
    workloads = by_kind.get("Deployment", []) + by_kind.get("StatefulSet", [])
    expected = {"Deployment": 2, "StatefulSet": 1, "Service": 3}
    for kind, count in expected.items():
        if len(by_kind.get(kind, [])) != count:
            fail(f"{variant}: expected {count} {kind}(s), got {len(by_kind.get(kind, []))}")
    services = {s["metadata"]["name"]: s for s in by_kind.get("Service", [])}
    for workload in workloads:
        name = workload["metadata"]["name"]
        selector = workload["spec"]["selector"]["matchLabels"]
        labels = pod_labels(workload)
        if not set(selector.items()) <= set(labels.items()):
            fail(f"{variant}: {name}: selector {selector} does not match the pod labels")
        pod = workload["spec"]["template"]["spec"]
        if not pod.get("securityContext", {}).get("runAsNonRoot"):
            fail(f"{variant}: {name}: pod securityContext lacks runAsNonRoot")
        mounts_needed = set()
        for container in pod["containers"]:
            ctx = container.get("securityContext", {})
            if ctx.get("allowPrivilegeEscalation") is not False or ctx.get("capabilities", {}).get("drop") != ["ALL"] or not ctx.get("readOnlyRootFilesystem"):
                fail(f"{variant}: {name}: container securityContext is not locked down")
            if not container.get("resources"):
                fail(f"{variant}: {name}: no resources")
            ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
            for probe in ("livenessProbe", "readinessProbe"):
                spec = container.get(probe)
                if not spec:
                    fail(f"{variant}: {name}: no {probe}")
                elif "httpGet" in spec and spec["httpGet"]["port"] not in ports:
                    fail(f"{variant}: {name}: {probe} uses unknown port {spec['httpGet']['port']}")
            mounts_needed |= {m["name"] for m in container.get("volumeMounts", [])}
            env = {e["name"]: e for e in container.get("env", [])}
            if "BACKENDS_DNS" in env:
                host, port = env["BACKENDS_DNS"]["value"].rsplit(":", 1)
                target = services.get(host)
                if not target or target["spec"].get("clusterIP") != "None":
                    fail(f"{variant}: BACKENDS_DNS host {host} is not a headless Service")
                elif int(port) not in [p["port"] for p in target["spec"]["ports"]]:
                    fail(f"{variant}: BACKENDS_DNS port {port} is not a port of {host}")
            if "REDIS_URL" in env:
                host = re.match(r"redis://([^:/]+):6379$", env["REDIS_URL"]["value"])
                if not host or host.group(1) not in services:
                    fail(f"{variant}: REDIS_URL {env['REDIS_URL']['value']} does not name a Service")
            if "ADMIN_TOKEN" in env:
                ref = env["ADMIN_TOKEN"]["valueFrom"]["secretKeyRef"]
                made = [s for s in by_kind.get("Secret", []) if s["metadata"]["name"] == ref["name"]]
                if not values["balancer"]["adminToken"]["existingSecret"] and (not made or ref["key"] not in made[0]["stringData"]):
                    fail(f"{variant}: ADMIN_TOKEN refers to a Secret the chart does not make")
        volumes = {v["name"] for v in pod.get("volumes", [])} | {c["metadata"]["name"] for c in workload["spec"].get("volumeClaimTemplates", [])}
        if not mounts_needed <= volumes:
            fail(f"{variant}: {name}: volume mounts {mounts_needed - volumes} have no volume")
    for workload in workloads:
        if workload["kind"] != "StatefulSet":
            continue
        # Kubernetes has a StatefulSet's pods named through its governing Service, a headless one.
        governing = services.get(workload["spec"].get("serviceName", ""))
        if not governing or governing["spec"].get("clusterIP") != "None":
            fail(f"{variant}: StatefulSet {workload['metadata']['name']}: serviceName {workload['spec'].get('serviceName')!r} is not a headless Service of the chart")
    for name, service in services.items():
        matches = [w for w in workloads if set(service["spec"]["selector"].items()) <= set(pod_labels(w).items())]
        if len(matches) != 1:
            fail(f"{variant}: Service {name} selects {len(matches)} workloads, expected 1")
            continue
        ports = {p["name"] for c in matches[0]["spec"]["template"]["spec"]["containers"] for p in c.get("ports", [])}
        for port in service["spec"]["ports"]:
            if port["targetPort"] not in ports:
                fail(f"{variant}: Service {name}: targetPort {port['targetPort']} is not a container port")
    web = [d for d in by_kind.get("Deployment", []) if d["metadata"]["name"] == f"{release}-web"]
    if not web or web[0]["spec"]["replicas"] != values["web"]["replicas"]:
        fail(f"{variant}: the web Deployment does not have web.replicas replicas")


VARIANTS = {
    "defaults": {},
    "admin-token-value": {"balancer": {"adminToken": {"value": "s3cret"}, "service": {"type": "LoadBalancer", "annotations": {"example.com/lb": "internal"}}}},
    "admin-token-existing-secret": {"balancer": {"adminToken": {"existingSecret": "my-admin"}}},
    "no-persistence-no-prestop": {
        "redis": {"persistence": {"enabled": False}},
        "web": {"shutdownDrainMs": 0, "replicas": 5, "extraEnv": {"LOG_LEVEL": "debug"}},
        "image": {"web": {"tag": "2.0.0"}},
        "imagePullSecrets": [{"name": "registry"}],
    },
}


def helm_render(helm, chart_dir, release, override):
    """The manifests `helm template` makes with `override` on top of the chart's values."""
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as handle:
        yaml.safe_dump(override, handle)
    try:
        result = subprocess.run(
            [helm, "template", release, chart_dir, "--namespace", "default", "-f", handle.name],
            capture_output=True, text=True, timeout=60, check=False,
        )
    finally:
        os.unlink(handle.name)
    if result.returncode != 0:
        raise RuntimeError(result.stderr.strip() or f"helm template exited with {result.returncode}")
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def first_difference(a, b, path=""):
    """The first path at which two parsed manifests differ, for a readable failure."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            if key not in a or key not in b:
                return f"{path}.{key}: only in {'helm' if key in a else 'the approximation'}"
            found = first_difference(a[key], b[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for index, (x, y) in enumerate(zip(a, b)):
            found = first_difference(x, y, f"{path}[{index}]")
            if found:
                return found
        return None
    return None if a == b else f"{path}: helm {a!r}, the approximation {b!r}"


def compare_with_helm(variant, helm_docs, docs):
    key = lambda d: (d["kind"], d["metadata"]["name"])  # noqa: E731 - a sort key
    ours = {key(d): d for d in docs}
    theirs = {key(d): d for d in helm_docs}
    for missing in sorted(set(theirs) ^ set(ours)):
        fail(f"{variant}: {missing[0]}/{missing[1]} is made by {'helm only' if missing in theirs else 'the approximation only'}")
    for both in sorted(set(theirs) & set(ours)):
        difference = first_difference(theirs[both], ours[both])
        if difference:
            fail(f"{variant}: {both[0]}/{both[1]} differs from helm's render at {difference}")


def main():
    chart_dir = sys.argv[1]
    out_dir = sys.argv[2] if len(sys.argv) > 2 else None
    chart = yaml.safe_load(open(os.path.join(chart_dir, "Chart.yaml")))
    values = yaml.safe_load(open(os.path.join(chart_dir, "values.yaml")))
    template_dir = os.path.join(chart_dir, "templates")
    sources = {name: open(os.path.join(template_dir, name)).read() for name in sorted(os.listdir(template_dir))}
    check_static(chart_dir, chart, values, sources)

    defines, trees = {}, {}
    for name, text in sources.items():
        try:
            trees[name] = parse(tokenize(text), defines)
        except SyntaxError as error:
            fail(f"{name}: {error}")
    release = "demo"
    helm = shutil.which("helm")
    for variant, override in VARIANTS.items():
        merged = deep_merge(values, override)
        root = {
            "Values": merged,
            "Chart": {"Name": chart["name"], "Version": chart["version"], "AppVersion": chart["appVersion"]},
            "Release": {"Name": release, "Namespace": "default", "Service": "Helm"},
        }
        renderer = Renderer(defines)
        manifests = []
        for name, tree in trees.items():
            if name.startswith("_"):
                continue
            try:
                text = renderer.render(tree, root, {"$": root})
            except Exception as error:  # noqa: BLE001 - reported with the template's name
                fail(f"{variant}: {name}: render failed: {error!r}")
                continue
            if name == "NOTES.txt":
                if out_dir:
                    os.makedirs(out_dir, exist_ok=True)
                    with open(os.path.join(out_dir, f"{variant}-NOTES.txt"), "w") as handle:
                        handle.write(text)
                continue
            manifests.append(f"---\n# Source: visit-counter/templates/{name}\n{text.strip()}\n")
        rendered = "".join(manifests)
        if out_dir:
            os.makedirs(out_dir, exist_ok=True)
            with open(os.path.join(out_dir, f"{variant}.yaml"), "w") as handle:
                handle.write(rendered)
        try:
            docs = [d for d in yaml.safe_load_all(rendered) if d]
        except yaml.YAMLError as error:
            fail(f"{variant}: rendered manifests are not YAML: {error}")
            continue
        try:
            check_rendered(variant, docs, merged, release)
        except (KeyError, TypeError, AttributeError, ValueError) as error:
            fail(f"{variant}: a manifest lacks a field the checks read: {error!r}")
        print(f"rendered {variant}: {', '.join(d['kind'] + '/' + d['metadata']['name'] for d in docs)}")
        if helm:
            try:
                helm_docs = helm_render(helm, chart_dir, release, override)
            except (RuntimeError, subprocess.TimeoutExpired, yaml.YAMLError) as error:
                fail(f"{variant}: helm template failed: {error}")
                continue
            try:
                check_rendered(f"{variant} (helm)", helm_docs, merged, release)
            except (KeyError, TypeError, AttributeError, ValueError) as error:
                fail(f"{variant} (helm): a manifest lacks a field the checks read: {error!r}")
            compare_with_helm(variant, helm_docs, docs)
            print(f"helm template {variant}: {len(helm_docs)} manifests, checked and compared")

    for message in FAILURES:
        print(f"FAIL {message}", file=sys.stderr)
    print(f"{'chart check failed' if FAILURES else 'chart check passed'}: {len(FAILURES)} problem(s)")
    sys.exit(1 if FAILURES else 0)


if __name__ == "__main__":
    main()
