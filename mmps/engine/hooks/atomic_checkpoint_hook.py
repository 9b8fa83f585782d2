# Copyright (c) mmps contributors. All rights reserved.
import os.path as osp
from typing import Dict, Optional

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook

from mmps.registry import HOOKS
from mmps.utils import allowed_checkpoint_globals, atomic_write


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook`` that never leaves a broken state.

    mmengine removes the oldest kept checkpoint and the previous best one
    *before* it writes their successors, and writes ``last_checkpoint``
    in place; with ``save_best`` it also rewrites the checkpoint that
    ``last_checkpoint`` names after each validation. A process killed in
    those moments leaves ``--resume`` without a complete checkpoint. This
    hook removes outdated checkpoints only after their successors are
    complete and writes ``last_checkpoint`` atomically; with
    :class:`~mmps.engine.SafeCheckpointRunner`, which writes checkpoints
    atomically, a kill at any moment leaves the last complete checkpoint
    in place and named by ``last_checkpoint``.

    Arguments are those of mmengine's ``CheckpointHook``.
    """

    def _publish_model(self, runner, ckpt_path: str) -> None:
        """mmengine's ``published_keys`` copy, read under mmps' allow-list.

        mmengine reads the checkpoint with ``torch.load``, whose
        ``weights_only`` default refuses the message hub's globals.
        """
        with allowed_checkpoint_globals():
            super()._publish_model(runner, ckpt_path)

    def _remove_checkpoint(self, path: str) -> None:
        """Remove a checkpoint file (or a DeepSpeed checkpoint folder)."""
        if self.file_backend.isfile(path):
            self.file_backend.remove(path)
        elif self.file_backend.isdir(path):
            self.file_backend.rmtree(path)

    def _save_checkpoint_with_step(self, runner, step: int,
                                   meta: dict) -> None:
        """Save ``filename_tmpl.format(step)``, then drop the oldest one."""
        outdated = None
        # the list is updated before saving, so the checkpoint holds it
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and
                                            self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated = self.keep_ckpt_ids.popleft()
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))

        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir,
                                                     ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir,
            ckpt_filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)
        if not is_main_process():
            return
        with atomic_write(osp.join(runner.work_dir, 'last_checkpoint')) as f:
            f.write(self.last_ckpt.encode())
        if outdated is not None:
            self._remove_checkpoint(
                self.file_backend.join_path(
                    self.out_dir, self.filename_tmpl.format(outdated)))

    def _best_paths(self) -> Dict[str, Optional[str]]:
        """The best checkpoint of each key indicator."""
        if len(self.key_indicators) == 1:
            return {self.key_indicators[0]: self.best_ckpt_path}
        return dict(self.best_ckpt_path_dict)

    def _set_best_paths(self, paths: Dict[str, Optional[str]]) -> None:
        """Set the best checkpoint of each key indicator."""
        if len(self.key_indicators) == 1:
            self.best_ckpt_path = paths[self.key_indicators[0]]
        else:
            self.best_ckpt_path_dict.update(paths)

    def _save_best_checkpoint(self, runner, metrics: dict) -> None:
        """Save a new best checkpoint, then remove the previous one.

        mmengine's method removes the previous best checkpoint of a key
        indicator when it finds none recorded; it runs here with none
        recorded, and the previous ones that it replaced are removed after
        it has written the new best checkpoints and the last checkpoint
        that records them.
        """
        if not self.save_best:
            return
        if 'auto' in self.key_indicators:  # resolved by the parent, once
            self._init_rule(self.rules, [list(metrics.keys())[0]])
        previous = self._best_paths()
        self._set_best_paths({key: None for key in previous})
        try:
            super()._save_best_checkpoint(runner, metrics)
        finally:
            current = self._best_paths()
            self._set_best_paths(
                {key: current[key] or previous[key]
                 for key in previous})
        if not is_main_process():
            return
        for key, path in previous.items():
            if path and current[key] and current[key] != path:
                self._remove_checkpoint(path)
                runner.logger.info(
                    f'The previous best checkpoint {path} is removed')
