"""Extract the schemas of the bodies deploy.sh sends to Okta from Okta's Management API spec.

Not run by the tests, which read only the JSON files written here. To refresh them, with PyYAML
installed (`pip install pyyaml`) and a copy of the spec:

python tests/okta_schemas/extract.py path/to/management-minimal.yaml[.gz]

Each `<Root>.json` holds the root's name and every schema it reaches through `$ref`, as the spec
writes them (references left as `#/components/schemas/<Name>`): a discriminator's mapping points
back at its base schema through `allOf`, so the references are resolved when a body is checked
(tests/okta_schema_check.py), not inlined here.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

HERE = Path(__file__).resolve().parent
ORIGIN = (
    "okta/okta-management-openapi-spec, dist/current/management-minimal.yaml at commit fdda229, "
    "Apache License 2.0"
)
# What deploy.sh sends: the inline hook (create, replace), the user profile policy's rule (replace),
# and a registration inline hook request to /api/v1/inlineHooks/{id}/execute.
ROOTS = ("InlineHookCreate", "InlineHookReplace", "PolicyRule", "RegistrationInlineHookRequest")
PREFIX = "#/components/schemas/"


def references(schema: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(PREFIX):
                found.add(value.removeprefix(PREFIX))
            elif key == "mapping" and isinstance(value, dict):
                found |= {v.removeprefix(PREFIX) for v in value.values() if isinstance(v, str)}
            else:
                found |= references(value)
    elif isinstance(schema, list):
        for item in schema:
            found |= references(item)
    return found


def closure(schemas: dict[str, Any], root: str) -> dict[str, Any]:
    wanted, seen = [root], {}
    while wanted:
        name = wanted.pop()
        if name in seen:
            continue
        seen[name] = schemas[name]
        wanted.extend(sorted(references(schemas[name]) - set(seen)))
    return dict(sorted(seen.items()))


def main(argv: list[str]) -> int:
    source = Path(argv[0])
    opener = gzip.open if source.suffix == ".gz" else open
    with opener(source, "rt", encoding="utf-8") as f:
        spec = yaml.safe_load(f)
    schemas = spec["components"]["schemas"]
    for root in ROOTS:
        document = {"origin": ORIGIN, "root": root, "schemas": closure(schemas, root)}
        text = json.dumps(document, indent=1, sort_keys=False, ensure_ascii=False, default=str)
        (HERE / f"{root}.json").write_text(text + "\n", encoding="utf-8")
        print(f"{root}.json: {len(document['schemas'])} schemas")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
