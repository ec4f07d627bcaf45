"""scikit-learn's estimator contract without depending on scikit-learn at run time.

:class:`ParamsMixin` gives ``get_params`` and ``set_params`` by reading the constructor's signature, as
``sklearn.base.BaseEstimator`` does, so that ``sklearn.base.clone``, grid searches and ``Pipeline``
work with the estimators of this package. The constructors only store their arguments; everything
estimated is set by ``fit`` and ends in ``_``.
"""

from __future__ import annotations

import inspect
from typing import Any, Self

__all__ = ["ParamsMixin"]


class ParamsMixin:
    """``get_params`` / ``set_params`` from the ``__init__`` signature (scikit-learn's convention)."""

    def __sklearn_tags__(self) -> Any:
        """scikit-learn's estimator tags: an unsupervised estimator (a clusterer, as GaussianMixture).

        Only scikit-learn calls this, so it imports scikit-learn here and the package does not need it.
        """
        from sklearn.utils import InputTags, Tags, TargetTags  # optional dependency

        return Tags(
            estimator_type="clusterer",
            target_tags=TargetTags(required=False),
            input_tags=InputTags(allow_nan=True),
        )

    @classmethod
    def _get_param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        return sorted(
            name
            for name, parameter in signature.parameters.items()
            if name != "self" and parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)
        )

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Constructor parameters of this estimator.

        Parameters
        ----------
        deep : bool, default=True
            Accepted for scikit-learn; these estimators hold no sub-estimators.

        Returns
        -------
        dict
            Parameter names mapped to their values.
        """
        return {name: getattr(self, name) for name in self._get_param_names()}

    def set_params(self, **params: Any) -> Self:
        """Set constructor parameters (as ``sklearn.base.BaseEstimator.set_params``).

        Parameters
        ----------
        **params
            New values of constructor parameters.

        Returns
        -------
        self
        """
        valid = set(self._get_param_names())
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"Invalid parameter {name!r} for {type(self).__name__}; valid: {sorted(valid)}.")
            setattr(self, name, value)
        return self
