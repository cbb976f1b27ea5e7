á	:Þ	
‹
layer_with_weights-0
layer_with_weights-1
layer-0"Ç
_tf_keras_sequential®{"name": "sequential", "trainable": true, "class_name": "Sequential", "keras_version": "2.4.0", "backend": "tensorflow", "model_config": {"class_name": "Sequential", "config": {"name": "sequential", "layers": [{"class_name": "InputLayer", "config": {"batch_input_shape": {"class_name": "__tuple__", "items": [null, 3, 2]}, "dtype": "float32", "sparse": false, "ragged": false, "name": "input_1"}},{"class_name": "LSTM", "config": {"name": "lstm", "trainable": true, "dtype": "float32", "return_sequences": false, "return_state": false, "go_backwards": false, "stateful": false, "unroll": false, "time_major": false, "units": 2, "activation": "tanh", "recurrent_activation": "sigmoid", "use_bias": true, "unit_forget_bias": true, "dropout": 0.0, "recurrent_dropout": 0.0, "implementation": 2}},{"class_name": "Dense", "config": {"name": "dense", "trainable": true, "dtype": "float32", "units": 1, "activation": "linear", "use_bias": true}}]}}}
I
cell"=
_tf_keras_rnn_layer&{"name": "lstm", "class_name": "LSTM"}
=";
_tf_keras_layer({"name": "dense", "class_name": "Dense"}
D"B
_tf_keras_layer/{"name": "lstm_cell", "class_name": "LSTMCell"}