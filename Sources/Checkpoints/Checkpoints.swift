// Checkpoints: reads PyTorch (zip and legacy) and safetensors checkpoints into name → tensor maps.
