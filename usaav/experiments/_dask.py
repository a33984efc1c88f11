r"""Run the pieces on a Dask cluster, refusing workers that run other code.

Any :class:`concurrent.futures.Executor` runs the pieces of an experiment
(:func:`~usaav.experiments.run_pieces`); a Dask client provides one with
``client.get_executor()``.  Results come back to the client, which alone
writes the piece store, so workers need no shared file system, and an
interrupted run resumes from the client's store.

Workers must compute with the same code as the client: the client's store
stamps every piece with the client's library fingerprint.
:func:`check_dask_workers` compares the fingerprint of every worker with this
process's before anything runs (and :func:`~usaav.experiments.run_pieces`
checks it again for every piece, for workers that join later).  A worker's
fingerprint is that of the code it imported (at ``import usaav``), not of its
files now: a worker started before a ``git pull`` is refused by name even
though its files are current.

Examples
--------
The Python form of ``usaav reproduce collapse --quick --dask-scheduler local``::

    from distributed import Client, LocalCluster
    from usaav import experiments as ex

    with LocalCluster(n_workers=2, threads_per_worker=1) as cluster, Client(cluster) as client:
        ex.check_dask_workers(client)
        result = ex.collapse_through_layers(
            quick=True, executor=client.get_executor(), store=ex.PieceStore("out/pieces"))
"""

from __future__ import annotations

from ._provenance import describe_library_change, library_fingerprint

__all__ = ["check_dask_workers"]


def check_dask_workers(client, fingerprint: dict | None = None) -> dict[str, str]:
    """Check that every worker of a Dask ``client`` runs the same usaav, NumPy and SciPy as this process.

    Parameters
    ----------
    client : distributed.Client
    fingerprint : dict, optional
        The fingerprint to compare with; default :func:`library_fingerprint` here.

    Returns
    -------
    dict
        Worker address → library digest (all equal).

    Raises
    ------
    RuntimeError
        When the cluster has no worker, a worker cannot import usaav, or a
        worker's library differs; the message names the workers and what
        differs ("usaav/dynamics.py changed", "numpy 1.26.4 → 2.1.3").
    """
    here = library_fingerprint() if fingerprint is None else fingerprint
    try:
        there = client.run(library_fingerprint)
    except Exception as error:  # the worker's own exception, re-raised by Dask
        raise RuntimeError(
            f"a Dask worker could not report its usaav ({type(error).__name__}: {error}); "
            "install usaav (pip install 'usaav[dask]') in every worker's environment") from error
    if not there:
        raise RuntimeError("the Dask cluster has no workers")
    different = {address: print_ for address, print_ in there.items() if print_["digest"] != here["digest"]}
    if different:
        lines = "\n".join(f"  {address}: {describe_library_change(here, print_)}"
                          for address, print_ in sorted(different.items()))
        raise RuntimeError(
            f"{len(different)} of {len(there)} Dask workers run a different usaav, NumPy or SciPy than "
            f"this process (what differs on the worker):\n{lines}\n"
            "Their results would not be those of this library: install the same versions on every worker.")
    return {address: print_["digest"] for address, print_ in there.items()}
