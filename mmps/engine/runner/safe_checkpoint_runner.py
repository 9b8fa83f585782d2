# Copyright (c) mmps contributors. All rights reserved.
import os.path as osp
from typing import Callable, Optional, Sequence, Tuple, Union

from mmengine.dist import master_only
from mmengine.fileio import LocalBackend, get_file_backend
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

from mmps.registry import RUNNERS
from mmps.utils import (DEFAULT_REVISE_KEYS, atomic_path, load_checkpoint_file,
                        load_model_state)


@RUNNERS.register_module()
class SafeCheckpointRunner(Runner):
    """mmengine's ``Runner`` with safe, strict loads and atomic saves.

    - Checkpoints (``load_from``, ``resume``, ``tools/test.py``) are read
      with :func:`~mmps.utils.load_checkpoint_file` (``torch.load`` with
      ``weights_only=True`` and mmps' allow-list) and their weights must
      fit the model: a missing, unexpected or reshaped key is an error that
      names it. A config that means a partial ``load_from`` (fine-tuning
      from another dataset's model, whose OIM table has another size) sets
      ``allow_partial_load = True``; resuming is always strict.
    - Checkpoints are written to a temporary file in the same folder and
      renamed when complete (:func:`~mmps.utils.atomic_path`): a killed
      process leaves the previous file intact, never a truncated one.

    Pretrained backbones (``init_cfg=dict(type='Pretrained', ...)``) are not
    affected: they initialise part of the model by design.
    """

    def load_checkpoint(
            self,
            filename: str,
            map_location: Union[str, Callable] = 'cpu',
            strict: Optional[bool] = None,
            revise_keys: Sequence[Tuple[str,
                                        str]] = DEFAULT_REVISE_KEYS) -> dict:
        """Load a checkpoint's weights into the model.

        Args:
            filename (str): A local path or URI.
            map_location (str | Callable): As in ``torch.load``.
                Defaults to ``'cpu'``.
            strict (bool, optional): Refuse a checkpoint that does not fit
                the model exactly. Defaults to None: strict when resuming
                or unless the config sets ``allow_partial_load = True``.
            revise_keys (Sequence[tuple[str, str]]): ``(pattern,
                replacement)`` rewrites of the checkpoint's keys. Defaults
                to removing a leading ``module.``.

        Returns:
            dict: The checkpoint.
        """
        if strict is None:
            strict = self._resume or not self.cfg.get('allow_partial_load',
                                                      False)
        checkpoint = load_checkpoint_file(filename, map_location)
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        model = self.model.module if is_model_wrapper(
            self.model) else self.model
        load_model_state(model, checkpoint, strict, revise_keys,
                         f'the checkpoint {filename}')
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint

    @master_only
    def save_checkpoint(self,
                        out_dir: str,
                        filename: str,
                        file_client_args: Optional[dict] = None,
                        backend_args: Optional[dict] = None,
                        **kwargs) -> None:
        """Save a checkpoint atomically (on a local file system).

        Args:
            out_dir (str): The folder.
            filename (str): The checkpoint's file name.
            file_client_args (dict, optional): Deprecated in mmengine;
                given, the checkpoint is written as mmengine writes it.
            backend_args (dict, optional): mmengine file backend arguments;
                other backends than the local one write as mmengine does.
            **kwargs: ``save_optimizer``, ``save_param_scheduler``, ``meta``
                and ``by_epoch`` of mmengine's ``Runner.save_checkpoint``.
        """
        local = file_client_args is None and isinstance(
            get_file_backend(out_dir, backend_args=backend_args), LocalBackend)
        if not local:
            super().save_checkpoint(
                out_dir,
                filename,
                file_client_args=file_client_args,
                backend_args=backend_args,
                **kwargs)
            return
        with atomic_path(osp.join(out_dir, filename)) as tmp:
            super().save_checkpoint(
                osp.dirname(tmp),
                osp.basename(tmp),
                backend_args=backend_args,
                **kwargs)
