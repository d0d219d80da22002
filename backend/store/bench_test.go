package store

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkCreateDatabase: one sealed, durable (synchronous=FULL) write.
func BenchmarkCreateDatabase(b *testing.B) {
	ctx := context.Background()
	s, _ := openTemp(b)
	for i := 0; b.Loop(); i++ {
		if _, err := s.CreateDatabase(ctx, sampleDatabase(fmt.Sprintf("db-%d", i))); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDatabases: listing 50 connections opens 50 sealed records.
func BenchmarkDatabases(b *testing.B) {
	ctx := context.Background()
	s, _ := openTemp(b)
	for i := range 50 {
		if _, err := s.CreateDatabase(ctx, sampleDatabase(fmt.Sprintf("db-%d", i))); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		if dbs, err := s.Databases(ctx); err != nil || len(dbs) != 50 {
			b.Fatal(len(dbs), err)
		}
	}
}
