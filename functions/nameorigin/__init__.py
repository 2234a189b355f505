"""nameorigin: which language a surname comes from, served with onnxruntime."""
