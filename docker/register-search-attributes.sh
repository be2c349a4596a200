#!/bin/sh
# One-shot (docker-compose.yml): registers Unroll's search attributes in the namespace, so
# the Web UI can filter threads by workspace, model, host and turn status (README "Search
# attributes and the Web UI"). Attributes already registered are left as they are.
set -eu
ns="${UNROLL_NAMESPACE:-default}"
addr="${TEMPORAL_ADDRESS:-temporal:7233}"
registered="$(temporal operator search-attribute list --namespace "$ns" --address "$addr")"
for name in UnrollCwd UnrollModel UnrollHost UnrollTurnStatus UnrollLastActivity; do
  if printf '%s\n' "$registered" | grep -qw "$name"; then
    echo "$name: already registered"
    continue
  fi
  type=Keyword
  [ "$name" = UnrollLastActivity ] && type=Datetime
  temporal operator search-attribute create --namespace "$ns" --address "$addr" --name "$name" --type "$type"
  echo "$name: registered ($type)"
done
