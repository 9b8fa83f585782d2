# Copyright (c) mmps contributors. All rights reserved.
import torch


def random_bn_statistics(module: torch.nn.Module,
                         generator: torch.Generator) -> None:
    """Give every BatchNorm1d of ``module`` random statistics and affine
    parameters, so that an eval-mode head is checked against a hand
    computation with non-trivial normalisation."""
    with torch.no_grad():
        for norm in module.modules():
            if isinstance(norm, torch.nn.BatchNorm1d):
                n = norm.num_features
                norm.running_mean.copy_(torch.randn(n, generator=generator))
                norm.running_var.copy_(
                    torch.rand(n, generator=generator) + 0.5)
                norm.weight.copy_(torch.rand(n, generator=generator) + 0.5)
                norm.bias.copy_(torch.randn(n, generator=generator))
