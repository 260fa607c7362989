package pgstore

import (
	"context"
	"fmt"

	"onedoor/sync/platform"
)

// AddPacked records where packed blobs live (s3blobs' index). A blob
// already recorded keeps its first place.
func (s *Store) AddPacked(ctx context.Context, blobs []platform.PackedBlob) error {
	shas := make([]string, len(blobs))
	objs := make([]string, len(blobs))
	offs := make([]int64, len(blobs))
	sizes := make([]int64, len(blobs))
	for i, b := range blobs {
		shas[i], objs[i], offs[i], sizes[i] = b.SHA, b.Object, b.Off, b.Size
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO packed_blobs(sha, object, off, size)
		SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[])
		ON CONFLICT (sha) DO NOTHING`, shas, objs, offs, sizes)
	if err != nil {
		return fmt.Errorf("pgstore: record packed blobs: %w", err)
	}
	return nil
}

// FindPacked returns where each of shas is packed; blobs not packed are
// absent from the map.
func (s *Store) FindPacked(ctx context.Context, shas []string) (map[string]platform.PackedBlob, error) {
	out := make(map[string]platform.PackedBlob, len(shas))
	if len(shas) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT sha, object, off, size FROM packed_blobs WHERE sha = ANY($1)`, shas)
	if err != nil {
		return nil, fmt.Errorf("pgstore: find packed blobs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var b platform.PackedBlob
		if err := rows.Scan(&b.SHA, &b.Object, &b.Off, &b.Size); err != nil {
			return nil, fmt.Errorf("pgstore: find packed blobs: %w", err)
		}
		out[b.SHA] = b
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: find packed blobs: %w", err)
	}
	return out, nil
}

// WalkPacked calls fn for every packed blob, in address order.
func (s *Store) WalkPacked(ctx context.Context, fn func(platform.PackedBlob) error) error {
	rows, err := s.pool.Query(ctx, `SELECT sha, object, off, size FROM packed_blobs ORDER BY sha`)
	if err != nil {
		return fmt.Errorf("pgstore: list packed blobs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var b platform.PackedBlob
		if err := rows.Scan(&b.SHA, &b.Object, &b.Off, &b.Size); err != nil {
			return fmt.Errorf("pgstore: list packed blobs: %w", err)
		}
		if err := fn(b); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("pgstore: list packed blobs: %w", err)
	}
	return nil
}
