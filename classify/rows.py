"""A few rows of a sparse matrix in plain NumPy arrays, for the small batches of a command-line run.

Importing `scipy.sparse` takes 0.15-0.2 s, half of what predicting one text with the command line may take.
For a batch of fewer than `SMALL_BATCH` texts, the feature blocks give their rows as `Rows` (CSR arrays:
`data`, `indices`, `indptr`) and the linear layer multiplies them here, without scipy. Every number is the
one scipy computes, to the bit: each row lists its entries in the order scipy's matrix holds them (the order
that its sums run in), and `@` adds the products up one entry after the other in that order, in float32, as
scipy's `csr_matvecs` does. `tests/test_features.py` checks both against scipy on real texts.
"""

from __future__ import annotations

import numpy as np

SMALL_BATCH = 200  # texts; from this many on, scipy.sparse (its import is paid once for a large batch)


class Rows:
    """CSR arrays of an (n_rows, n_columns) matrix: row i's entries are `data[indptr[i]:indptr[i + 1]]`, in
    the columns `indices[...]`, in the order scipy's CSR matrix of the same features holds them."""

    def __init__(self, data, indices, indptr, shape):
        self.data = data
        self.indices = indices
        self.indptr = indptr
        self.shape = tuple(shape)

    @classmethod
    def from_dense(cls, array) -> Rows:
        """The nonzero entries of a dense block, row by row in column order (as `scipy.sparse.csr_matrix`)."""
        array = np.atleast_2d(np.asarray(array))
        rows, cols = array.nonzero()
        indptr = np.zeros(array.shape[0] + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=array.shape[0]), out=indptr[1:])
        return cls(array[rows, cols], cols.astype(np.int32), indptr, array.shape)

    @classmethod
    def hstack(cls, blocks: list[Rows]) -> Rows:
        """Blocks side by side: each row holds the first block's entries, then the second's... (scipy's
        `hstack` of CSR matrices)."""
        if len(blocks) == 1:
            return blocks[0]
        n_rows = blocks[0].shape[0]
        offsets = np.cumsum([0] + [b.shape[1] for b in blocks])
        numbers = np.arange(n_rows, dtype=np.int64)
        owner = np.concatenate([np.repeat(numbers, np.diff(b.indptr)) for b in blocks])
        order = np.argsort(owner, kind="stable")  # by row; within a row, block after block, entries in order
        data = np.concatenate([b.data for b in blocks])[order]
        shifted = [b.indices.astype(np.int64) + at for b, at in zip(blocks, offsets[:-1], strict=True)]
        indices = np.concatenate(shifted)[order]
        indptr = np.zeros(n_rows + 1, dtype=np.int64)
        np.cumsum(np.bincount(owner, minlength=n_rows), out=indptr[1:])
        return cls(data, indices.astype(np.int32), indptr, (n_rows, int(offsets[-1])))

    def __matmul__(self, other) -> np.ndarray:
        """`self @ other` for a dense (n_columns, k) array, as scipy computes it: per row, the products
        `data * other[column]` added up one entry after the other, from zero, in the result's dtype."""
        other = np.asarray(other)
        dtype = np.result_type(self.data.dtype, other.dtype)
        out = np.zeros((self.shape[0], other.shape[1]), dtype=dtype)
        products = self.data.astype(dtype, copy=False)[:, None] * other[self.indices].astype(dtype,
                                                                                             copy=False)
        for i in range(self.shape[0]):
            start, end = self.indptr[i], self.indptr[i + 1]
            if end > start:  # np.add.accumulate adds in order; its first row starts the sum from zero
                out[i] = np.add.accumulate(np.concatenate((out[i:i + 1], products[start:end])), axis=0)[-1]
        return out

    def toarray(self) -> np.ndarray:
        out = np.zeros(self.shape, dtype=self.data.dtype)
        rows = np.repeat(np.arange(self.shape[0]), np.diff(self.indptr))
        np.add.at(out, (rows, self.indices), self.data)
        return out
