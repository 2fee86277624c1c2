#!/usr/bin/env bash
# Sourced by the set-up, demo, start and test scripts: makes `node` on PATH a Node.js that meets
# the project's floor (package.json `engines.node`). Where the machine's own node is new enough it
# is used as it is; where it is older (or missing), the official Linux binaries of Node.js 22 LTS
# are taken from the npm registry's `node-linux-<arch>` package (the package the registry's `node`
# package installs) into the git-ignored .cache/node/, once, and put first on PATH.
#
# It also points node-gyp at that Node's own headers (npm_config_nodedir), so native addons such
# as better-sqlite3 build offline when no prebuilt binary can be fetched.

_streamberg_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The floor, and the release installed where the machine's node is below it.
STREAMBERG_NODE_FLOOR="22.22.0"
STREAMBERG_NODE_VERSION="22.23.5"

_streamberg_node_ok() {
  # True if the given node binary is at least the floor.
  local v
  v="$("$1" -p 'process.versions.node' 2>/dev/null)" || return 1
  [[ "$(printf '%s\n%s\n' "$STREAMBERG_NODE_FLOOR" "$v" | sort -V | head -n 1)" == "$STREAMBERG_NODE_FLOOR" ]]
}

_streamberg_node_setup() {
  local dir="$_streamberg_root/.cache/node"
  if [[ -x "$dir/bin/node" ]] && _streamberg_node_ok "$dir/bin/node"; then
    :
  elif command -v node >/dev/null 2>&1 && _streamberg_node_ok "$(command -v node)"; then
    local nodedir
    nodedir="$(cd "$(dirname "$(command -v node)")/.." && pwd)"
    [[ -d "$nodedir/include/node" ]] && export npm_config_nodedir="$nodedir"
    echo "node: using $(command -v node) $(node -v)" >&2
    return 0
  else
    command -v npm >/dev/null 2>&1 || { echo "node: npm is needed to install Node.js $STREAMBERG_NODE_VERSION" >&2; return 1; }
    local arch
    case "$(uname -m)" in
      x86_64) arch=x64 ;;
      aarch64 | arm64) arch=arm64 ;;
      *) echo "node: no Node.js package for $(uname -m); install Node.js >= $STREAMBERG_NODE_FLOOR" >&2; return 1 ;;
    esac
    echo "node: $(command -v node >/dev/null 2>&1 && node -v || echo 'no node') is older than $STREAMBERG_NODE_FLOOR; installing Node.js $STREAMBERG_NODE_VERSION from the npm registry into .cache/node" >&2
    local tmp
    tmp="$(mktemp -d)"
    (cd "$tmp" && npm pack --silent "node-linux-$arch@$STREAMBERG_NODE_VERSION" >/dev/null) || { rm -rf "$tmp"; echo "node: npm pack node-linux-$arch@$STREAMBERG_NODE_VERSION failed" >&2; return 1; }
    rm -rf "$dir" && mkdir -p "$dir"
    tar -xzf "$tmp"/node-linux-"$arch"-*.tgz -C "$dir" --strip-components=1
    rm -rf "$tmp"
    _streamberg_node_ok "$dir/bin/node" || { echo "node: the installed $dir/bin/node does not run" >&2; return 1; }
  fi
  export PATH="$dir/bin:$PATH"
  export npm_config_nodedir="$dir"
  echo "node: using $dir/bin/node $("$dir/bin/node" -v)" >&2
}

_streamberg_node_setup
