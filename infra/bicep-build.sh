#!/usr/bin/env bash
# Compiles and lints the Azure infrastructure (infra/main.bicep and its modules) and checks the few contracts the
# compiled template has with the rest of the repository. The app settings themselves are checked against the code's
# configuration keys and local.settings.sample.json by a test in tests/Orchestrator.Functions.Tests, which runs this
# script with BICEP_TEMPLATE_OUT to get the compiled template.
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
# Exit status: 0 when everything compiles with no warnings and the checks pass, non-zero otherwise.
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

# 3. Contract checks on the compiled template.
python3 - "$work/main.json" infra/main.parameters.json << 'EOF'
import json, sys

template = json.load(open(sys.argv[1], encoding="utf-8"))
parameters = json.load(open(sys.argv[2], encoding="utf-8"))["parameters"]
problems = []

# main.parameters.json maps azd's own variables, and only parameters main.bicep declares.
expected = {"environmentName": "${AZURE_ENV_NAME}", "location": "${AZURE_LOCATION}", "principalId": "${AZURE_PRINCIPAL_ID}"}
for name, value in expected.items():
    if parameters.get(name, {}).get("value") != value:
        problems.append(f"main.parameters.json should set {name} to {value}")
for name in parameters:
    if name not in template["parameters"]:
        problems.append(f"main.parameters.json sets '{name}', which main.bicep does not declare")

def app_settings(node):
    if isinstance(node, dict):
        if node.get("type") == "Microsoft.Web/sites/config" and "appsettings" in str(node.get("name")):
            yield node["properties"]
        for value in node.values():
            yield from app_settings(value)
    elif isinstance(node, list):
        for value in node:
            yield from app_settings(value)

# The connection budget in main.bicep counts the monitors' pool with a variable of its own; the app setting is what
# the app uses. They must agree, or the budget checks a pool the app does not have.
found = list(app_settings(template))
if len(found) != 1:
    problems.append(f"expected one appsettings resource in the compiled template, found {len(found)}")
else:
    setting = found[0].get("Monitors__MaxPoolSize")
    budget = template.get("variables", {}).get("monitorsMaxPoolSize")
    if str(budget) != setting:
        problems.append(f"Monitors__MaxPoolSize is {setting!r} in app/api.bicep but monitorsMaxPoolSize is {budget!r} in main.bicep")

for problem in problems:
    print(f"bicep-build: {problem}", file=sys.stderr)
if problems:
    sys.exit(1)
EOF

echo "bicep-build: OK"
