"""Training pipeline: data → char-RNN (torch) → evaluated, calibrated, verified ONNX artifact."""
