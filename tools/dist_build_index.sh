#!/usr/bin/env bash
# Index footage on several processes (and machines):
#   bash tools/dist_build_index.sh CONFIG CHECKPOINT SOURCES NUM_PROCESSES \
#       --out INDEX [build_index.py options]
# SOURCES is one video, image or folder; give more with quotes,
# e.g. "cam1/ cam2/". Without a GPU the processes use the gloo backend.

CONFIG=$1
CHECKPOINT=$2
SOURCES=$3
GPUS=$4
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}

PYTHONPATH="$(dirname $0)/..":$PYTHONPATH \
torchrun \
    --nnodes=$NNODES \
    --node_rank=$NODE_RANK \
    --master_addr=$MASTER_ADDR \
    --nproc_per_node=$GPUS \
    --master_port=$PORT \
    $(dirname "$0")/build_index.py \
    $CONFIG \
    $CHECKPOINT \
    $SOURCES \
    --launcher pytorch \
    ${@:5}
