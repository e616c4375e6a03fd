package sandbox

import (
	"crypto/sha256"
	"strings"

	"github.com/google/uuid"
	"github.com/waasctl/waasctl/internal/waasapi"
)

// MPCKeyService: devices, device groups, MPC keys, signatures and the MPC
// operations that wait for the device's half of the computation.

func (c *call) device(name string) (*deviceRec, error) {
	id, ok := strings.CutPrefix(name, "devices/")
	if !ok || id == "" {
		return nil, invalidArg("device %q: want devices/{device}; register the device first (RegisterDevice)", name)
	}
	d := c.es.Devices[id]
	if d == nil {
		return nil, notFound("device", name)
	}
	if d.Revoked {
		return nil, errorf(waasapi.FailedPrecondition, "device %q is revoked", name)
	}
	return d, nil
}

func (s *Server) registerDevice(c *call) (any, error) {
	var req waasapi.RegisterDeviceRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if out, ok := c.replay("RegisterDevice", req.RequestID); ok {
		return out, nil
	}
	if len(req.RegistrationData) == 0 {
		return nil, invalidArg("registrationData is required (the WaaS SDK's bootstrap output)")
	}
	return c.idempotent("RegisterDevice", req.RequestID, func() (any, error) {
		d := &deviceRec{ID: uuid.NewString()}
		c.es.Devices[d.ID] = d
		return waasapi.Device{Name: deviceName(d.ID)}, nil
	})
}

func (s *Server) getDevice(c *call) (any, error) {
	d := c.es.Devices[c.arg(1)]
	if d == nil {
		return nil, notFound("device", c.name)
	}
	return waasapi.Device{Name: deviceName(d.ID)}, nil
}

func (s *Server) revokeDevice(c *call) (any, error) {
	var req waasapi.RevokeDeviceRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	id, _ := strings.CutPrefix(req.Name, "devices/")
	d := c.es.Devices[id]
	if d == nil {
		return nil, notFound("device", req.Name)
	}
	d.Revoked = true
	return struct{}{}, nil
}

// group finds pools/{p}/deviceGroups/{g} given p and g.
func (c *call) group(poolID, groupID string) (*groupRec, error) {
	g := c.es.Groups[groupID]
	if g == nil || g.PoolID != poolID {
		return nil, notFound("device group", "pools/"+poolID+"/deviceGroups/"+groupID)
	}
	return g, nil
}

func (c *call) newGroup(poolID string, devices []string) *groupRec {
	g := &groupRec{ID: uuid.NewString(), PoolID: poolID, Devices: devices}
	c.es.Groups[g.ID] = g
	c.es.Stats.DeviceGroups++
	return g
}

func (c *call) newKey(g *groupRec, path []int32) *keyRec {
	pub := randomBytes(33)
	pub[0] = 0x02 | pub[0]&1
	g.Keys = append(g.Keys, keyRec{ID: uuid.NewString(), DerivationPath: path, PublicKey: pub})
	c.es.Stats.MPCKeys++
	return &g.Keys[len(g.Keys)-1]
}

// newOp creates a pending MPC operation on g.
func (c *call) newOp(g *groupRec, kind opKind) *opRec {
	op := &opRec{ID: uuid.NewString(), Kind: kind, GroupID: g.ID}
	c.es.Ops[op.ID] = op
	g.Pending = append(g.Pending, op.ID)
	c.es.Stats.PendingOperations++
	return op
}

func groupView(g *groupRec) waasapi.DeviceGroup {
	v := waasapi.DeviceGroup{Name: groupName(g)}
	for _, d := range g.Devices {
		v.Devices = append(v.Devices, deviceName(d))
	}
	return v
}

func (s *Server) createDeviceGroup(c *call) (any, error) {
	if out, ok := c.replay("CreateDeviceGroup", c.query.Get("requestId")); ok {
		return out, nil
	}
	pool, err := c.pool(c.arg(1))
	if err != nil {
		return nil, err
	}
	var body waasapi.DeviceGroup
	if err := c.decode(&body); err != nil {
		return nil, err
	}
	if len(body.Devices) == 0 {
		return nil, invalidArg("deviceGroup.devices must name at least one registered device")
	}
	var devices []string
	for _, name := range body.Devices {
		d, err := c.device(name)
		if err != nil {
			return nil, err
		}
		devices = append(devices, d.ID)
	}
	id := c.query.Get("deviceGroupId")
	if id != "" {
		if !resourceID.MatchString(id) {
			return nil, invalidArg("deviceGroupId %q: use 1-63 lowercase letters, digits and hyphens", id)
		}
		if c.es.Groups[id] != nil {
			return nil, errorf(waasapi.AlreadyExists, "device group %q already exists", "pools/"+pool.ID+"/deviceGroups/"+id)
		}
	}
	return c.idempotent("CreateDeviceGroup", c.query.Get("requestId"), func() (any, error) {
		g := c.newGroup(pool.ID, devices)
		if id != "" {
			delete(c.es.Groups, g.ID)
			g.ID = id
			c.es.Groups[id] = g
		}
		op := c.newOp(g, opCreateDeviceGroup)
		return c.keyOperation(op), nil
	})
}

func (s *Server) getDeviceGroup(c *call) (any, error) {
	g, err := c.group(c.arg(1), c.arg(3))
	if err != nil {
		return nil, err
	}
	return groupView(g), nil
}

// listMPCOperations returns the group's pending operations, unpaginated, as
// the real API does.
func (s *Server) listMPCOperations(c *call) (any, error) {
	g, err := c.group(c.arg(1), c.arg(3))
	if err != nil {
		return nil, err
	}
	out := waasapi.ListMPCOperationsResponse{MPCOperations: make([]waasapi.MPCOperation, 0, len(g.Pending))}
	for _, id := range g.Pending {
		out.MPCOperations = append(out.MPCOperations, c.mpcOperationView(c.es.Ops[id]))
	}
	return out, nil
}

func (c *call) mpcOperationView(op *opRec) waasapi.MPCOperation {
	g := c.es.Groups[op.GroupID]
	v := waasapi.MPCOperation{Name: opName(g, op.ID), MPCData: mpcData(op.ID)}
	gn := groupName(g)
	switch op.Kind {
	case opCreateDeviceGroup:
		v.CreateDeviceGroupMetadata = &waasapi.DeviceGroupMetadata{DeviceGroup: gn}
	case opCreateSignature:
		v.CreateSignatureMetadata = &waasapi.CreateSignatureMetadata{DeviceGroup: gn, Payload: op.Payload}
	case opPrepareDeviceArchive:
		v.PrepareDeviceArchiveMetadata = &waasapi.DeviceGroupMetadata{DeviceGroup: gn}
	case opPrepareDeviceBackup:
		v.PrepareDeviceBackupMetadata = &waasapi.DeviceGroupMetadata{DeviceGroup: gn}
	case opAddDevice:
		v.AddDeviceMetadata = &waasapi.AddDeviceMetadata{DeviceGroup: gn, ParticipatingDevices: groupView(g).Devices}
	}
	return v
}

// mpcData stands in for the opaque MPC payload the SDK consumes; derived
// from the ID so that the estate need not store it.
func mpcData(id string) []byte {
	h := sha256.Sum256([]byte("mpc-data:" + id))
	return h[:]
}

func keyView(g *groupRec, k *keyRec) waasapi.MPCKey {
	return waasapi.MPCKey{
		Name:           keyName(g, k),
		DerivationPath: k.DerivationPath,
		PublicKey: &waasapi.PublicKey{EllipticPublicKey: &waasapi.EllipticPublicKey{
			EllipticCurve: waasapi.Secp256k1,
			PublicKey:     k.PublicKey,
		}},
	}
}

func (s *Server) createMPCKey(c *call) (any, error) {
	if out, ok := c.replay("CreateMPCKey", c.query.Get("requestId")); ok {
		return out, nil
	}
	g, err := c.group(c.arg(1), c.arg(3))
	if err != nil {
		return nil, err
	}
	if !g.Ready {
		return nil, errorf(waasapi.FailedPrecondition, "device group %q is not ready: complete its CreateDeviceGroup operation first", groupName(g))
	}
	var body waasapi.MPCKey
	if err := c.decode(&body); err != nil {
		return nil, err
	}
	return c.idempotent("CreateMPCKey", c.query.Get("requestId"), func() (any, error) {
		return keyView(g, c.newKey(g, body.DerivationPath)), nil
	})
}

func (s *Server) getMPCKey(c *call) (any, error) {
	g, err := c.group(c.arg(1), c.arg(3))
	if err != nil {
		return nil, err
	}
	k := g.key(c.arg(5))
	if k == nil {
		return nil, notFound("MPC key", c.name)
	}
	return keyView(g, k), nil
}

func (s *Server) createSignature(c *call) (any, error) {
	if out, ok := c.replay("CreateSignature", c.query.Get("requestId")); ok {
		return out, nil
	}
	g, err := c.group(c.arg(1), c.arg(3))
	if err != nil {
		return nil, err
	}
	k := g.key(c.arg(5))
	if k == nil {
		return nil, notFound("MPC key", strings.TrimSuffix(c.name, "/signatures"))
	}
	var body waasapi.Signature
	if err := c.decode(&body); err != nil {
		return nil, err
	}
	if len(body.Payload) != 32 {
		return nil, invalidArg("signature.payload must be a 32-byte digest, got %d bytes", len(body.Payload))
	}
	return c.idempotent("CreateSignature", c.query.Get("requestId"), func() (any, error) {
		op := c.newOp(g, opCreateSignature)
		op.KeyID, op.Payload = k.ID, body.Payload
		return c.keyOperation(op), nil
	})
}

// deviceOperation handles PrepareDeviceArchive, PrepareDeviceBackup and
// AddDevice: each starts an MPC operation that yields the device group.
func (s *Server) deviceOperation(kind opKind) func(*call) (any, error) {
	return func(c *call) (any, error) {
		g, err := c.group(c.arg(1), c.arg(3))
		if err != nil {
			return nil, err
		}
		var req waasapi.DeviceRequest
		if err := c.decode(&req); err != nil {
			return nil, err
		}
		if out, ok := c.replay(kind.String(), req.RequestID); ok {
			return out, nil
		}
		d, err := c.device(req.Device)
		if err != nil {
			return nil, err
		}
		member := false
		for _, id := range g.Devices {
			member = member || id == d.ID
		}
		if kind == opAddDevice && member {
			return nil, errorf(waasapi.AlreadyExists, "device %q is already in %q", req.Device, groupName(g))
		}
		if kind != opAddDevice && !member {
			return nil, errorf(waasapi.FailedPrecondition, "device %q is not in %q", req.Device, groupName(g))
		}
		return c.idempotent(kind.String(), req.RequestID, func() (any, error) {
			op := c.newOp(g, kind)
			op.Device = d.ID
			return c.keyOperation(op), nil
		})
	}
}
