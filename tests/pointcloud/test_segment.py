import numpy as np
import pytest

from geo3d.errors import InputError
from geo3d.pointcloud import segment
from geo3d.pointcloud.segment import segment_points, voxel_components


def blobs(seed=0, n_blobs=30, per=300):
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 40, size=(n_blobs, 3))
    pts = np.repeat(centres, per, axis=0) + rng.normal(scale=0.15, size=(n_blobs * per, 3))
    noise = rng.uniform(0, 40, size=(200, 3))
    return np.vstack([pts, noise])


def same_partition(a, b):
    """True when two labelings group the points identically (up to renumbering)."""
    pairs = np.unique(np.column_stack([a, b]), axis=0)
    return len(np.unique(pairs[:, 0])) == len(pairs) == len(np.unique(pairs[:, 1]))


def test_dense_and_sparse_paths_agree(monkeypatch):
    xyz = blobs()
    dense, n_dense = voxel_components(xyz, 0.2, min_points=5)
    monkeypatch.setattr(segment, "_SLAB_CELLS", 0)  # no cross-section fits a slab: sparse graph
    sparse_, n_sparse = voxel_components(xyz, 0.2, min_points=5)
    assert n_dense == n_sparse
    np.testing.assert_array_equal(dense, sparse_)


@pytest.mark.parametrize("cells", [200 * 200, 200 * 200 * 3, 10**9])
def test_slabs_give_the_labels_of_one_grid(monkeypatch, cells):
    """Components crossing slab boundaries (diagonally too) are joined: same labels as one grid."""
    rng = np.random.default_rng(5)
    # a diagonal chain (crosses every slab boundary corner to corner), blobs and noise
    chain = np.column_stack([np.arange(0, 39, 0.1)] * 3) + 0.05
    xyz = np.vstack([blobs(4), chain, rng.uniform(0, 40, (500, 3))])
    monkeypatch.setattr(segment, "_SLAB_CELLS", 10**9)
    whole, n_whole = voxel_components(xyz, 0.2, min_points=2)
    monkeypatch.setattr(segment, "_SLAB_CELLS", cells)
    slabs, n_slabs = voxel_components(xyz, 0.2, min_points=2)
    assert n_whole == n_slabs
    np.testing.assert_array_equal(whole, slabs)
    assert len(np.unique(whole[len(xyz) - 500 - len(chain):len(xyz) - 500])) == 1  # the chain is one


def test_touching_voxels_join_diagonally():
    # corner-touching voxels are 26-connected
    xyz = np.array([[0.05, 0.05, 0.05], [0.15, 0.15, 0.15], [0.35, 0.35, 0.35]])
    labels, n = voxel_components(xyz, 0.1)
    assert labels.tolist() == [0, 0, 1] and n == 2


def test_min_points_makes_noise_and_labels_are_dense():
    xyz = blobs()
    labels = segment_points(xyz, voxel_size=0.2, min_points=50)
    kept = np.unique(labels[labels >= 0])
    np.testing.assert_array_equal(kept, np.arange(len(kept)))
    counts = np.bincount(labels[labels >= 0])
    assert counts.min() >= 50
    assert (labels[-200:] == -1).mean() > 0.9  # scattered noise


def test_deterministic():
    xyz = blobs(3)
    np.testing.assert_array_equal(segment_points(xyz), segment_points(xyz))


def test_matches_open3d_dbscan_on_separated_blobs():
    xyz = blobs(1, n_blobs=15, per=400)
    ours = segment_points(xyz, voxel_size=0.25, min_points=20)
    ref = segment_points(xyz, method="dbscan", voxel_size=0.25, min_points=20)
    big = (ours >= 0) & (ref >= 0)
    assert same_partition(ours[big], ref[big])
    assert abs(int(ours.max()) - int(ref.max())) <= 1


def test_mask_and_callable():
    xyz = blobs(2)
    mask = np.zeros(len(xyz), dtype=bool)
    mask[:600] = True

    def halves(pts, *, voxel_size, min_points):
        return (pts[:, 0] > 20).astype(np.int64)

    labels = segment_points(xyz, method=halves, mask=mask)
    assert (labels[600:] == -1).all()
    assert set(np.unique(labels[:600])) <= {0, 1}


def test_bad_callable_output_is_reported():
    with pytest.raises(InputError, match="returned"):
        segment_points(np.zeros((5, 3)), method=lambda p, **k: np.zeros(2, dtype=int))


def test_bad_voxel_size():
    with pytest.raises(InputError, match="voxel_size"):
        voxel_components(np.zeros((3, 3)), 0)


def test_voxel_components_same_with_and_without_cc3d(monkeypatch):
    """connected-components-3d and scipy.ndimage give the very same labels."""
    import builtins

    import numpy as np

    from geo3d.pointcloud.segment import voxel_components

    rng = np.random.default_rng(3)
    xyz = np.concatenate([rng.normal(c, 0.2, (400, 3)) for c in ((0, 0, 0), (2, 0, 0), (2.4, 0.3, 0.1))])
    fast, n_fast = voxel_components(xyz, 0.1, min_points=3)
    real_import = builtins.__import__

    def no_cc3d(name, *args, **kwargs):
        if name == "cc3d":
            raise ImportError("no cc3d")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_cc3d)
    slow, n_slow = voxel_components(xyz, 0.1, min_points=3)
    assert n_fast == n_slow and n_fast >= 2
    np.testing.assert_array_equal(fast, slow)


def test_far_apart_points_take_the_sparse_graph(monkeypatch):
    """A nearly empty grid (two blobs 20 km apart) is not labelled cell by cell, same labels."""
    called = []
    real = segment._sparse_components

    def spy(*args, **kwargs):
        called.append(True)
        return real(*args, **kwargs)

    monkeypatch.setattr(segment, "_sparse_components", spy)
    one = blobs(6, n_blobs=3, per=100)
    xyz = np.vstack([one, one + np.array([20_000.0, 0, 0])])
    labels, _ = voxel_components(xyz, 0.2, min_points=5)
    assert called
    half = len(xyz) // 2
    assert set(labels[:half][labels[:half] >= 0]).isdisjoint(labels[half:][labels[half:] >= 0])
    np.testing.assert_array_equal(labels[:half] >= 0, labels[half:] >= 0)


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_a_line_of_voxels_is_labelled(axis):
    # regression (issue 11, a forest tile): cc3d 4.1.1 raised "Label 3 cannot be mapped to
    # union-find array" on the 26-connected labelling of a line of voxels
    shape = [1, 1, 1]
    shape[axis] = 6
    grid = np.array([1, 1, 0, 1, 0, 1], dtype=bool).reshape(shape)
    lab, n = segment._label_grid(grid)
    assert n == 3
    assert lab.reshape(-1).tolist() == [1, 1, 0, 2, 0, 3]
    xyz = np.zeros((4, 3))
    xyz[:, axis] = [0.05, 0.15, 0.35, 0.55]  # cells 0, 1, 3, 5 of a 0.1 m grid
    labels, n = voxel_components(xyz, 0.1)
    assert n == 3 and labels.tolist() == [0, 0, 1, 2]
