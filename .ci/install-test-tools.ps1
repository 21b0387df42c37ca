# Windows's .ci/install-test-tools: installs Go and Node.js (for speedscope) with winget when missing; the browser is
# Edge, which Windows has. Never run on a Windows machine here. Where it cannot install, it says what is missing; in
# CI that fails the run, elsewhere the tests that need the tool are skipped with the same sentence.
$ErrorActionPreference = 'Stop'

function Give-Up([string]$what, [string]$why) {
  [Console]::Error.WriteLine("LeakAssert's tests need $what, which could not be installed: $why.")
  if ($env:CI -eq 'true') { exit 1 }
  [Console]::Error.WriteLine('The tests that need it will be skipped with that reason.')
  exit 0
}

$winget = Get-Command winget -ErrorAction SilentlyContinue
foreach ($tool in @(@{ Command = 'go'; Package = 'GoLang.Go' }, @{ Command = 'npm'; Package = 'OpenJS.NodeJS.LTS' })) {
  if (Get-Command $tool.Command -ErrorAction SilentlyContinue) { continue }
  if (-not $winget) { Give-Up $tool.Command 'winget is not on PATH; install Go and Node.js' }
  winget install --exact --id $tool.Package --silent --accept-package-agreements --accept-source-agreements
  $env:Path = [Environment]::GetEnvironmentVariable('Path', 'Machine') + ';' + [Environment]::GetEnvironmentVariable('Path', 'User')
}

$version = '1.25.0'
$tools = if ($env:LEAKASSERT_TEST_TOOLS) { $env:LEAKASSERT_TEST_TOOLS } else { Join-Path $HOME '.cache\leakassert-test-tools' }
$speedscope = Join-Path $tools "speedscope-$version"
if (-not (Test-Path (Join-Path $speedscope 'node_modules\speedscope\dist\release\index.html'))) {
  if (-not (Get-Command npm -ErrorAction SilentlyContinue)) { Give-Up 'npm' "it is not on PATH, so speedscope $version cannot be installed" }
  New-Item -ItemType Directory -Force -Path $speedscope | Out-Null
  npm install --prefix $speedscope --no-audit --no-fund --no-save "speedscope@$version"
}
