"""torch.nn.functional on traced tensors, by topic: activations, losses, convolution,
pooling, resampling, normalization, attention, recurrent layers, embeddings, distances."""
