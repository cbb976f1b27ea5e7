package savedmodel

import (
	"google.golang.org/protobuf/encoding/protowire"
)

// pbField is one field of a protobuf message: its number, wire type, and
// value (u for varint and fixed types, b for length-delimited ones).
type pbField struct {
	num protowire.Number
	typ protowire.Type
	u   uint64
	b   []byte
	off int // offset of the field's tag in the message
}

// walkProto calls fn for every field of msg in order. Groups and unknown
// fields are skipped by wire type. Errors name file and path and carry
// the offset base+offset in msg.
func walkProto(msg []byte, file, path string, base int64, fn func(f pbField) error) error {
	for p := 0; p < len(msg); {
		num, typ, n := protowire.ConsumeTag(msg[p:])
		if n < 0 {
			return formatErr(file, path, base+int64(p), "bad protobuf tag: %v", protowire.ParseError(n))
		}
		f := pbField{num: num, typ: typ, off: p}
		p += n
		var m int
		switch typ {
		case protowire.VarintType:
			f.u, m = protowire.ConsumeVarint(msg[p:])
		case protowire.Fixed32Type:
			var v uint32
			v, m = protowire.ConsumeFixed32(msg[p:])
			f.u = uint64(v)
		case protowire.Fixed64Type:
			f.u, m = protowire.ConsumeFixed64(msg[p:])
		case protowire.BytesType:
			f.b, m = protowire.ConsumeBytes(msg[p:])
		default:
			m = protowire.ConsumeFieldValue(num, typ, msg[p:])
		}
		if m < 0 {
			return formatErr(file, path, base+int64(f.off), "bad protobuf field %d: %v", num, protowire.ParseError(m))
		}
		p += m
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

// Field numbers of the TensorFlow protos read here (proto3). Names are the
// .proto names; keras-formats.md §4.2–4.4 lists the messages.
const (
	// tensorflow/core/protobuf/tensor_bundle.proto BundleHeaderProto.
	bundleHeaderNumShards  = 1
	bundleHeaderEndianness = 2
	// BundleEntryProto.
	bundleEntryDType  = 1
	bundleEntryShape  = 2
	bundleEntryShard  = 3
	bundleEntryOffset = 4
	bundleEntrySize   = 5
	bundleEntryCRC32C = 6
	bundleEntrySlices = 7
	// tensorflow/core/framework/tensor_shape.proto TensorShapeProto.
	shapeDim         = 2
	shapeUnknownRank = 3
	dimSize          = 1
	// tensorflow/core/protobuf/trackable_object_graph.proto.
	trackableGraphNodes  = 1 // TrackableObjectGraph.nodes
	trackableChildren    = 1 // TrackableObject.children
	trackableAttributes  = 2 // TrackableObject.attributes
	objRefNodeID         = 1 // ObjectReference.node_id
	objRefLocalName      = 2 // ObjectReference.local_name
	serializedName       = 1 // SerializedTensor.name
	serializedFullName   = 2 // SerializedTensor.full_name
	serializedCheckpoint = 3 // SerializedTensor.checkpoint_key
	// keras/protobuf/saved_metadata.proto.
	savedMetadataNodes = 1 // SavedMetadata.nodes
	metaNodeID         = 2 // SavedObject.node_id
	metaNodePath       = 3 // SavedObject.node_path
	metaIdentifier     = 4 // SavedObject.identifier
	metaMetadata       = 5 // SavedObject.metadata
	// tensorflow/core/protobuf/saved_model.proto, meta_graph.proto,
	// saved_object_graph.proto.
	savedModelMetaGraphs  = 2 // SavedModel.meta_graphs
	metaGraphObjectGraph  = 7 // MetaGraphDef.object_graph_def
	objectGraphNodes      = 1 // SavedObjectGraph.nodes
	savedObjectChildren   = 1 // SavedObject.children
	savedObjectUserObject = 4 // SavedObject.user_object
	userObjectIdentifier  = 1 // SavedUserObject.identifier
	userObjectMetadata    = 3 // SavedUserObject.metadata (pre-TF 2.5 Keras JSON)
)

// tensorShape decodes a TensorShapeProto into dims; unknown dims (-1) and
// unknown rank are errors because stored tensors always have full shapes.
func tensorShape(b []byte, file, path string) ([]int, error) {
	var dims []int
	err := walkProto(b, file, path, -1, func(f pbField) error {
		switch {
		case f.num == shapeUnknownRank && f.typ == protowire.VarintType && f.u != 0:
			return formatErr(file, path, -1, "stored tensor has unknown rank")
		case f.num == shapeDim && f.typ == protowire.BytesType:
			size := int64(0)
			if err := walkProto(f.b, file, path, -1, func(d pbField) error {
				if d.num == dimSize && d.typ == protowire.VarintType {
					size = int64(d.u)
				}
				return nil
			}); err != nil {
				return err
			}
			if size < 0 || size > 1<<40 {
				return formatErr(file, path, -1, "bad dimension %d in stored shape", size)
			}
			if len(dims) >= 64 {
				return formatErr(file, path, -1, "stored shape has more than 64 dimensions")
			}
			dims = append(dims, int(size))
		}
		return nil
	})
	return dims, err
}
