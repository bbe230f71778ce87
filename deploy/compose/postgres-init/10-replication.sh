#!/bin/sh
# Run once by the postgres image when it creates the primary's data directory (docker-compose.yml mounts this folder
# on /docker-entrypoint-initdb.d): lets the service postgres-replica take its base backup and stream WAL over the
# network as the user postgres, with the password.
set -e
echo "host replication postgres all scram-sha-256" >>"$PGDATA/pg_hba.conf"
