# Copyright (c) mmps contributors. All rights reserved.
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmps.models.losses import OIMLoss
from mmps.registry import HOOKS


@HOOKS.register_module()
class NumPersonIdsCheckHook(Hook):
    """Check that OIM lookup tables have one row per training identity.

    The number of training identities is ``num_person_ids`` in the metainfo
    of the training dataset (5532 on CUHK-SYSU, the distinct training ids on
    PRW). A table with fewer rows fails on the first large id; one with more
    rows trains against rows that no identity fills. Like mmdet's
    ``NumClassCheckHook`` for ``num_classes``. Training data without any
    labeled person is an error of the data, whatever the table's size.
    """

    @staticmethod
    def _files(dataset) -> str:
        """Where the dataset reads its annotations from, for the error."""
        source = getattr(dataset, 'ann_file', '') or getattr(
            dataset, 'data_root', '')
        return f' from {source}' if source else ''

    def before_train(self, runner) -> None:
        """Compare the OIM losses of the model with the training data.

        Args:
            runner (:obj:`mmengine.runner.Runner`): The runner.
        """
        dataset = runner.train_dataloader.dataset
        expected = dataset.metainfo.get('num_person_ids')
        if expected is None:
            runner.logger.warning(
                f'{type(dataset).__name__} does not give `num_person_ids` '
                f'in its metainfo: the size of the OIM lookup table is not '
                f'checked')
            return
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        for name, module in model.named_modules():
            if not isinstance(module, OIMLoss):
                continue
            if expected == 0:
                raise ValueError(
                    f'the training data ({type(dataset).__name__}'
                    f'{self._files(dataset)}) has no labeled person: every '
                    f'person_id is unlabeled (-1), but {name} learns '
                    f'identities from labeled boxes; give the persons '
                    f'their identities (person_id >= 0) in the training '
                    f'annotations')
            if module.num_person_ids != expected:
                raise ValueError(
                    f'{name}.num_person_ids is {module.num_person_ids}, but '
                    f'the training data ({type(dataset).__name__}) has '
                    f'{expected} identities: set num_person_ids={expected} '
                    f'in the config of the re-id loss')
