// Placeholder: the kernels' AssemblyScript build is added with the WASM kernels.
