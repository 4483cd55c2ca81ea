#!/bin/sh
# The add-on's entry point: data and options live in /data, the Supervisor's volume.
# exec, so that SIGTERM from the Supervisor reaches CamAuth and it stops cleanly.
exec camauth serve --data-dir /data --options /data/options.json --host 0.0.0.0 --port 8971
