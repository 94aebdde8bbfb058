// Engine: float32 CPU operators (convolutions, deformable convolution, image ops) on OpenBLAS.
