"""`batch --scheduler`: a class graded on a Dask distributed cluster (the optional extra `gradcheck-suite[cluster]`).

security: which scheduler addresses are accepted (loopback tcp://, else tls://) and the TLS object;
bundle: folders as bytes (a submission per task, the course once per worker); worker: the plugin
holding each worker's sandbox, and the tasks; engine: the client side, driven by batch.run_batch;
specs: Slurm job scripts and Kubernetes cluster specs for the workers. Nothing here imports dask
until a batch runs on a cluster.
"""
