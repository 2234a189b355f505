"""Print template.yaml as CloudFormation after the SAM transform (run with .venv-sam's Python,
which has samtranslator): ``python sam_transform.py TEMPLATE '{"ApiAccess": "Iam"}'``.

The managed policies SAM may attach are given by name → ARN, so no AWS call is made.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import yaml
from samtranslator.translator.transform import transform

MANAGED_POLICIES = {
    "AWSLambdaBasicExecutionRole": (
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    ),
    "AWSXrayWriteOnlyAccess": "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
    "AWSXRayDaemonWriteAccess": "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess",
}


class Loader(yaml.SafeLoader):
    """Keeps CloudFormation short-form tags as their long form."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if name == "Fn::GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


Loader.add_multi_constructor("!", _tag)


class PolicyLoader:
    def load(self) -> dict[str, str]:
        return MANAGED_POLICIES


def main() -> None:
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    template = yaml.load(Path(sys.argv[1]).read_text(encoding="utf-8"), Loader=Loader)
    for resource in template["Resources"].values():  # as `sam package` leaves them
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://bucket/package.zip"
    parameters = {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012"}
    parameters.update(json.loads(sys.argv[2]) if len(sys.argv) > 2 else {})
    print(json.dumps(transform(template, parameters, PolicyLoader())))


if __name__ == "__main__":
    main()
