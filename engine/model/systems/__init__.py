"""Model systems: complete networks (language model, classifiers, ViT, GCN, diffusion)."""
