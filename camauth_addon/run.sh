#!/bin/sh
# The add-on's entry point: data and options live in /data, the Supervisor's volume.
# With init: false there is no s6, so the container's environment (SUPERVISOR_TOKEN, for
# discovery) reaches this script directly; exec, so that SIGTERM from the Supervisor reaches
# CamAuth itself and it stops cleanly.
exec camauth serve --data-dir /data --options /data/options.json --host 0.0.0.0 --port 8971 \
  --ingress-port 8099
