"""Print template.yaml as CloudFormation after the SAM transform (run with .venv-sam's Python,
which has the SAM CLI and samtranslator):
``python sam_transform.py TEMPLATE '{"ApiAccess": "Iam"}'``.

The managed policies SAM may attach are given by name → ARN, so no AWS call is made.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from samcli.yamlhelper import yaml_parse
from samtranslator.translator.transform import transform

MANAGED_POLICIES = {
    "AWSLambdaBasicExecutionRole": (
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    ),
    "AWSXrayWriteOnlyAccess": "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
    "AWSXRayDaemonWriteAccess": "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess",
    "AWSCodeDeployRoleForLambda": "arn:aws:iam::aws:policy/service-role/AWSCodeDeployRoleForLambda",
}


class PolicyLoader:
    def load(self) -> dict[str, str]:
        return MANAGED_POLICIES


def main() -> None:
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    template = yaml_parse(Path(sys.argv[1]).read_text(encoding="utf-8"))  # SAM CLI's reader
    for resource in template["Resources"].values():  # as `sam package` leaves them
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://bucket/package.zip"
    parameters = {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012"}
    parameters.update(json.loads(sys.argv[2]) if len(sys.argv) > 2 else {})
    print(json.dumps(transform(template, parameters, PolicyLoader())))


if __name__ == "__main__":
    main()
