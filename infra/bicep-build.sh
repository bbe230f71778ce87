#!/usr/bin/env bash
# Compiles and lints the Azure infrastructure (infra/main.bicep and its modules): no error and no warning. The compiled
# template's contract (app settings against the code's configuration keys and local.settings.sample.json, secrets in
# Key Vault, the connection budget, main.parameters.json) is checked by tests/Orchestrator.Functions.Tests, which run
# this script with BICEP_TEMPLATE_OUT to get the compiled template.
#
# The bicep CLI comes from the NuGet package Azure.Bicep.CommandLine.<rid>: a throwaway project in a temp dir
# restores it into the NuGet global packages folder (no change to the solution), and later runs reuse it.
#
# Usage: infra/bicep-build.sh            (from any directory)
# Environment:
#   BICEP_VERSION=0.49.2          package version to use
#   BICEP_BIN=/path/bicep         use this bicep binary instead of the NuGet one (e.g. the one `az bicep` installs)
#   BICEP_TEMPLATE_OUT=/path.json also write the compiled ARM template (main.json) there
#   BICEP_ALLOW_WARNINGS=1        do not fail on warnings (errors always fail)
# Exit status: 0 when everything compiles and lints with no warnings, non-zero otherwise.
set -euo pipefail

BICEP_VERSION="${BICEP_VERSION:-0.49.2}"
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) rid=linux-x64 ;;
  Linux-aarch64 | Linux-arm64) rid=linux-arm64 ;;
  Darwin-x86_64) rid=osx-x64 ;;
  Darwin-arm64) rid=osx-arm64 ;;
  *) echo "bicep-build: unsupported platform $(uname -s)-$(uname -m); set BICEP_BIN" >&2; exit 2 ;;
esac

restore_bicep() {
  local package_id="Azure.Bicep.CommandLine.$rid"
  local packages_dir="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
  local bin="$packages_dir/${package_id,,}/$BICEP_VERSION/tools/bicep"
  if [[ ! -f "$bin" ]]; then
    command -v dotnet > /dev/null || { echo "bicep-build: dotnet not found (needed to restore $package_id)" >&2; exit 2; }
    local project="$work/restore"
    mkdir -p "$project"
    # Empty Directory.*.props stop MSBuild from picking up any found above the temp dir.
    echo '<Project />' > "$project/Directory.Build.props"
    echo '<Project />' > "$project/Directory.Packages.props"
    cat > "$project/bicep-cli.csproj" << EOF
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net10.0</TargetFramework>
  </PropertyGroup>
  <ItemGroup>
    <PackageDownload Include="$package_id" Version="[$BICEP_VERSION]" />
  </ItemGroup>
</Project>
EOF
    echo "bicep-build: restoring $package_id $BICEP_VERSION" >&2
    (cd "$project" && dotnet restore --nologo --verbosity quiet bicep-cli.csproj) >&2
    [[ -f "$bin" ]] || { echo "bicep-build: restore finished but $bin is missing" >&2; exit 2; }
  fi
  [[ -x "$bin" ]] || chmod u+x "$bin"
  printf '%s\n' "$bin"
}

bicep="${BICEP_BIN:-$(restore_bicep)}"
cd "$repo_root"
echo "bicep-build: $("$bicep" --version)"

# 1. Compile. Diagnostics are shown here only on failure, because lint repeats them.
if ! "$bicep" build infra/main.bicep --stdout > "$work/main.json" 2> "$work/build.log"; then
  cat "$work/build.log" >&2
  echo "bicep-build: FAILED to compile infra/main.bicep" >&2
  exit 1
fi
if [[ -n "${BICEP_TEMPLATE_OUT:-}" ]]; then
  mkdir -p "$(dirname "$BICEP_TEMPLATE_OUT")"
  cp "$work/main.json" "$BICEP_TEMPLATE_OUT"
  echo "bicep-build: compiled template written to $BICEP_TEMPLATE_OUT"
fi

# 2. Lint main.bicep and every module it references (rules: infra/bicepconfig.json).
lint_status=0
"$bicep" lint infra/main.bicep > "$work/lint.log" 2>&1 || lint_status=$?
cat "$work/lint.log" >&2
errors=$(grep -c ' : Error ' "$work/lint.log" || true)
warnings=$(grep -c ' : Warning ' "$work/lint.log" || true)
echo "bicep-build: lint: $errors error(s), $warnings warning(s)"
if ((lint_status != 0 || errors > 0)); then
  echo "bicep-build: FAILED: lint errors" >&2
  exit 1
fi
if ((warnings > 0)) && [[ "${BICEP_ALLOW_WARNINGS:-}" != 1 ]]; then
  echo "bicep-build: FAILED: warnings are treated as errors (fix them, or suppress one with" \
    "'#disable-next-line <rule>' and a comment saying why; BICEP_ALLOW_WARNINGS=1 relaxes this)" >&2
  exit 1
fi

# The compiled template's contract (app settings against the code's options, secrets in Key Vault, the connection
# budget, main.parameters.json) is checked by tests/Orchestrator.Functions.Tests/DeploymentSettingsTests.cs, which
# runs this script with BICEP_TEMPLATE_OUT.

echo "bicep-build: OK"
