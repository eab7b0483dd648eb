package hyperstacksim

// familyShape is how the API names one family's endpoints and payloads. The
// keys follow the provider's documented examples where there are any, and
// the SDK's schema otherwise, typos and reused keys included: clients must
// cope with both. (Both specs list model evaluation and data synthesis
// under billing_history_serverless_inference, and the docs show no example.)
type familyShape struct {
	listKey   string // payload key of GET /billing/billing/history/{family}
	detailKey string // payload key of GET .../{id}
	graphKey  string // payload key of GET .../{id}/graph; "" when the payload is the whole body
	param     string // the path parameter's name in the spec
	label     string // how messages name the family
}

var shapes = map[Family]familyShape{
	FamilyVM:         {"billing_history_vm", "billing_history_vm_details", "billing_history_vm_details", "vm_id", "Virtual Machine"},
	FamilyVolume:     {"billing_history_volume", "billing_history_volume_details", "billing_history_volume_details", "volume_id", "Volume"},
	FamilySnapshot:   {"billing_history_snapshot", "billing_history_snapshot_details", "billing_history_snapshot_details", "snapshot_id", "Snapshot"},
	FamilyBucket:     {"billing_history_bucket", "billing_history_bucket_details", "", "bucket_id", "Bucket"},
	FamilyCluster:    {"billing_history_cluster", "billing_history_cluster_details", "billing_history_cluster_details", "cluster_id", "Cluster"},
	FamilyContract:   {"billing_history_contract", "", "", "", "Contract"},
	FamilyFineTuning: {"billing_history_fine_tuning", "billing_history_volume_details", "billing_history_snapshot_details", "resource_id", "Fine-Tuning"},
	FamilyServerless: {"billing_history_serverless_inference", "billing_history_serverless_inference_details", "billing_history_serverless_inference_details", "resource_id", "Serverless Inference"},
	FamilyModelEval:  {"billing_history_serverless_inference", "billing_history_model_evalutation_details", "billing_history_model_evalutation_details", "resource_id", "Model Evaluation"},
	FamilyDataSynth:  {"billing_history_serverless_inference", "billing_history_data_synthesis_details", "billing_history_data_synthesis_details", "resource_id", "Data Synthesis"},
	FamilyImageGen:   {"billing_history_image_generation", "billing_history_image_generation_details", "billing_history_image_generation_details", "resource_id", "Image Generation"},
}
