"""torch.nn.functional on traced tensors, by topic: activations, losses, convolution and
pooling, resampling, normalization, attention, recurrent layers, embeddings, distances."""
