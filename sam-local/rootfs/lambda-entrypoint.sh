#!/bin/sh
# The stand-in's /lambda-entrypoint.sh: what the public Lambda base image's entrypoint does. The
# handler is the only argument; without a Runtime API (a plain `podman run -p 9000:8080 IMAGE
# handler`) it starts the Runtime Interface Emulator in front of the runtime's bootstrap.
# (`sam local invoke` does not come here: it starts /var/rapid/aws-lambda-rie itself, which then
# runs /var/runtime/bootstrap.)
if [ $# -ne 1 ]; then
  echo "entrypoint requires the handler name to be the first argument" 1>&2
  exit 142
fi
export _HANDLER="$1"

RUNTIME_ENTRYPOINT=/var/runtime/bootstrap
if [ -z "${AWS_LAMBDA_RUNTIME_API}" ]; then
  exec /usr/local/bin/aws-lambda-rie "$RUNTIME_ENTRYPOINT"
else
  exec "$RUNTIME_ENTRYPOINT"
fi
