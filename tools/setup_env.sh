#!/usr/bin/env bash
# Create (or update) a virtual environment with mmps and everything it needs.
#
#   bash tools/setup_env.sh           # runtime + mim
#   bash tools/setup_env.sh --tests   # and the test extras
#
# The venv is ./.venv unless MMPS_VENV names another folder. Versions are the
# ones checked together here: torch 2.13.0 (CPU), mmcv 2.1.0 with its ops,
# mmengine 0.10.7, mmdet 3.3.0 (which refuses mmcv >= 2.2).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${MMPS_VENV:-${repo_root}/.venv}"
python="${PYTHON:-python3}"
with_tests=0
for arg in "$@"; do
  case "$arg" in
    --tests) with_tests=1 ;;
    *) echo "setup_env.sh: unknown option '$arg' (expected --tests)" >&2; exit 2 ;;
  esac
done

TORCH_VERSION="${TORCH_VERSION:-2.13.0}"
MMCV_VERSION=2.1.0
MMENGINE_VERSION=0.10.7
MMDET_VERSION=3.3.0

if [ ! -x "${venv}/bin/python" ]; then
  echo "[setup_env] creating ${venv}"
  "${python}" -m venv "${venv}"
fi
pip=("${venv}/bin/python" -m pip --disable-pip-version-check)
constraints=(-c "${repo_root}/requirements/constraints.txt")
"${pip[@]}" install -q --upgrade pip
"${pip[@]}" install -q "${constraints[@]}" setuptools wheel ninja
"${pip[@]}" install -q "${constraints[@]}" "torch==${TORCH_VERSION}"

# mmcv has no wheel for this torch on the package index. A wheel built here
# may wait in ../shared/wheels (or MMCV_WHEEL_DIR); otherwise pip builds the
# sdist with the compiled ops (about 10 minutes on 2 cores).
wheel_dirs=()
for dir in "${MMCV_WHEEL_DIR:-}" "${repo_root}/../shared/wheels"; do
  if [ -n "$dir" ] && [ -d "$dir" ]; then wheel_dirs+=(--find-links "$dir"); fi
done
if ! "${venv}/bin/python" -c "import mmcv, mmcv.ops; assert mmcv.__version__ == '${MMCV_VERSION}'" 2>/dev/null; then
  echo "[setup_env] installing mmcv ${MMCV_VERSION} (${wheel_dirs[*]:-source build})"
  MMCV_WITH_OPS=1 FORCE_CUDA="${FORCE_CUDA:-0}" MAX_JOBS="${MAX_JOBS:-2}" \
    "${pip[@]}" install -q "${constraints[@]}" --no-build-isolation "${wheel_dirs[@]}" "mmcv==${MMCV_VERSION}"
fi
"${pip[@]}" install -q "${constraints[@]}" "mmengine==${MMENGINE_VERSION}" "mmdet==${MMDET_VERSION}"

# openmim's dependency opendatalab -> openxlab pins setuptools 60.2, which
# cannot make PEP 660 editable installs: install mim without it (it is only
# used by `mim download --dataset`).
"${pip[@]}" install -q "${constraints[@]}" -r "${repo_root}/requirements/optional.txt"
"${pip[@]}" install -q --no-deps openmim==0.3.9

extras=""
if [ "$with_tests" = 1 ]; then extras="[tests]"; fi
# --no-build-isolation: build with the venv's setuptools (<81), no download.
"${pip[@]}" install -q "${constraints[@]}" --no-build-isolation -e "${repo_root}${extras}"

# mim 0.3.9 looks for tools/ and configs/ in <site-packages>/mmps, which a
# PEP 660 editable install does not create (open-mmlab/mim#114): link it.
site_dir="$("${venv}/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
if [ ! -e "${site_dir}/mmps" ]; then
  ln -s "${repo_root}/mmps" "${site_dir}/mmps"
fi
"${venv}/bin/python" -c "import mmps, mmcv.ops; print('[setup_env] mmps', mmps.__version__, 'ready in ${venv}')"
