"""Regenerate dtos.json: the request bodies of Bigcapital's customer flow, from its document.

    .venv/bin/python tests/bigcapital/extract.py ../shared/bigcapital/openapi.json

Bigcapital's published OpenAPI document (its SDK's `shared/sdk-ts/openapi.json`, AGPL-3.0) is
1.2 MB; the drop-in test needs only these schemas, kept here verbatim.
"""

import json
import sys
from pathlib import Path

SCHEMAS = (
    "AuthSigninDto",
    "GenerateApiKeyDto",
    "CreateCustomerDto",
    "EditCustomerDto",
    "CustomerOpeningBalanceEditDto",
    "BulkDeleteCustomersDto",
)


def main(document: str) -> None:
    components = json.loads(Path(document).read_text())["components"]["schemas"]
    extract = {name: components[name] for name in SCHEMAS}
    target = Path(__file__).with_name("dtos.json")
    target.write_text(json.dumps(extract, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
