export type Json =
  | string
  | number
  | boolean
  | null
  | { [key: string]: Json | undefined }
  | Json[]

export type Database = {
  graphql_public: {
    Tables: {
      [_ in never]: never
    }
    Views: {
      [_ in never]: never
    }
    Functions: {
      graphql: {
        Args: {
          extensions?: Json
          operationName?: string
          query?: string
          variables?: Json
        }
        Returns: Json
      }
    }
    Enums: {
      [_ in never]: never
    }
    CompositeTypes: {
      [_ in never]: never
    }
  }
  public: {
    Tables: {
      blocks: {
        Row: {
          blocked_id: string
          blocker_id: string
          created_at: string
        }
        Insert: {
          blocked_id: string
          blocker_id?: string
          created_at?: string
        }
        Update: {
          blocked_id?: string
          blocker_id?: string
          created_at?: string
        }
        Relationships: [
          {
            foreignKeyName: "blocks_blocked_id_fkey"
            columns: ["blocked_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "blocks_blocker_id_fkey"
            columns: ["blocker_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
        ]
      }
      booking_requests: {
        Row: {
          accepted_at: string | null
          cancelled_at: string | null
          cancelled_by: string | null
          completed_at: string | null
          conversation_id: string
          created_at: string
          currency: string | null
          duration_minutes: number | null
          ends_on: string
          expires_at: string
          group_size: number
          id: string
          itinerary_id: string | null
          local_id: string | null
          meeting_point: string | null
          message: string | null
          offer_message: string | null
          offered_at: string | null
          price_cents: number | null
          starts_on: string
          status: Database["public"]["Enums"]["booking_status"]
          status_changed_at: string
          traveler_id: string | null
          updated_at: string
        }
        Insert: {
          accepted_at?: string | null
          cancelled_at?: string | null
          cancelled_by?: string | null
          completed_at?: string | null
          conversation_id: string
          created_at?: string
          currency?: string | null
          duration_minutes?: number | null
          ends_on: string
          expires_at: string
          group_size: number
          id?: string
          itinerary_id?: string | null
          local_id?: string | null
          meeting_point?: string | null
          message?: string | null
          offer_message?: string | null
          offered_at?: string | null
          price_cents?: number | null
          starts_on: string
          status?: Database["public"]["Enums"]["booking_status"]
          status_changed_at?: string
          traveler_id?: string | null
          updated_at?: string
        }
        Update: {
          accepted_at?: string | null
          cancelled_at?: string | null
          cancelled_by?: string | null
          completed_at?: string | null
          conversation_id?: string
          created_at?: string
          currency?: string | null
          duration_minutes?: number | null
          ends_on?: string
          expires_at?: string
          group_size?: number
          id?: string
          itinerary_id?: string | null
          local_id?: string | null
          meeting_point?: string | null
          message?: string | null
          offer_message?: string | null
          offered_at?: string | null
          price_cents?: number | null
          starts_on?: string
          status?: Database["public"]["Enums"]["booking_status"]
          status_changed_at?: string
          traveler_id?: string | null
          updated_at?: string
        }
        Relationships: [
          {
            foreignKeyName: "booking_requests_conversation_id_fkey"
            columns: ["conversation_id"]
            isOneToOne: false
            referencedRelation: "conversations"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "booking_requests_currency_fkey"
            columns: ["currency"]
            isOneToOne: false
            referencedRelation: "currencies"
            referencedColumns: ["code"]
          },
          {
            foreignKeyName: "booking_requests_itinerary_id_fkey"
            columns: ["itinerary_id"]
            isOneToOne: false
            referencedRelation: "itineraries"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "booking_requests_local_id_fkey"
            columns: ["local_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "booking_requests_traveler_id_fkey"
            columns: ["traveler_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
        ]
      }
      conversation_participants: {
        Row: {
          conversation_id: string
          last_read_at: string | null
          last_read_message_id: string | null
          profile_id: string
          unread_count: number
        }
        Insert: {
          conversation_id: string
          last_read_at?: string | null
          last_read_message_id?: string | null
          profile_id: string
          unread_count?: number
        }
        Update: {
          conversation_id?: string
          last_read_at?: string | null
          last_read_message_id?: string | null
          profile_id?: string
          unread_count?: number
        }
        Relationships: [
          {
            foreignKeyName: "conversation_participants_conversation_id_fkey"
            columns: ["conversation_id"]
            isOneToOne: false
            referencedRelation: "conversations"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "conversation_participants_profile_id_fkey"
            columns: ["profile_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
        ]
      }
      conversations: {
        Row: {
          contact_unlocked_at: string | null
          created_at: string
          id: string
          last_message_at: string | null
          last_message_preview: string | null
          last_message_sender_id: string | null
          local_id: string | null
          traveler_id: string | null
        }
        Insert: {
          contact_unlocked_at?: string | null
          created_at?: string
          id?: string
          last_message_at?: string | null
          last_message_preview?: string | null
          last_message_sender_id?: string | null
          local_id?: string | null
          traveler_id?: string | null
        }
        Update: {
          contact_unlocked_at?: string | null
          created_at?: string
          id?: string
          last_message_at?: string | null
          last_message_preview?: string | null
          last_message_sender_id?: string | null
          local_id?: string | null
          traveler_id?: string | null
        }
        Relationships: [
          {
            foreignKeyName: "conversations_last_message_sender_id_fkey"
            columns: ["last_message_sender_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "conversations_local_id_fkey"
            columns: ["local_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "conversations_traveler_id_fkey"
            columns: ["traveler_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
        ]
      }
      currencies: {
        Row: {
          code: string
        }
        Insert: {
          code: string
        }
        Update: {
          code?: string
        }
        Relationships: []
      }
      expertise_tags: {
        Row: {
          display_name: string
          tag: string
        }
        Insert: {
          display_name: string
          tag: string
        }
        Update: {
          display_name?: string
          tag?: string
        }
        Relationships: []
      }
      itineraries: {
        Row: {
          city: string | null
          created_at: string
          ends_on: string
          id: string
          owner_id: string
          starts_on: string
          status: Database["public"]["Enums"]["itinerary_status"]
          title: string
          updated_at: string
        }
        Insert: {
          city?: string | null
          created_at?: string
          ends_on: string
          id?: string
          owner_id?: string
          starts_on: string
          status?: Database["public"]["Enums"]["itinerary_status"]
          title: string
          updated_at?: string
        }
        Update: {
          city?: string | null
          created_at?: string
          ends_on?: string
          id?: string
          owner_id?: string
          starts_on?: string
          status?: Database["public"]["Enums"]["itinerary_status"]
          title?: string
          updated_at?: string
        }
        Relationships: [
          {
            foreignKeyName: "itineraries_owner_id_fkey"
            columns: ["owner_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
        ]
      }
      itinerary_items: {
        Row: {
          created_at: string
          created_by: string | null
          day_index: number
          duration_minutes: number | null
          id: string
          itinerary_id: string
          latitude: number | null
          longitude: number | null
          notes: string | null
          place_name: string | null
          position: number
          starts_at: string | null
          title: string
          updated_at: string
          updated_by: string | null
        }
        Insert: {
          created_at?: string
          created_by?: string | null
          day_index: number
          duration_minutes?: number | null
          id?: string
          itinerary_id: string
          latitude?: number | null
          longitude?: number | null
          notes?: string | null
          place_name?: string | null
          position: number
          starts_at?: string | null
          title: string
          updated_at?: string
          updated_by?: string | null
        }
        Update: {
          created_at?: string
          created_by?: string | null
          day_index?: number
          duration_minutes?: number | null
          id?: string
          itinerary_id?: string
          latitude?: number | null
          longitude?: number | null
          notes?: string | null
          place_name?: string | null
          position?: number
          starts_at?: string | null
          title?: string
          updated_at?: string
          updated_by?: string | null
        }
        Relationships: [
          {
            foreignKeyName: "itinerary_items_created_by_fkey"
            columns: ["created_by"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "itinerary_items_itinerary_id_fkey"
            columns: ["itinerary_id"]
            isOneToOne: false
            referencedRelation: "itineraries"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "itinerary_items_updated_by_fkey"
            columns: ["updated_by"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
        ]
      }
      itinerary_shares: {
        Row: {
          conversation_id: string
          created_at: string
          itinerary_id: string
          local_id: string
        }
        Insert: {
          conversation_id: string
          created_at?: string
          itinerary_id: string
          local_id: string
        }
        Update: {
          conversation_id?: string
          created_at?: string
          itinerary_id?: string
          local_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "itinerary_shares_conversation_id_fkey"
            columns: ["conversation_id"]
            isOneToOne: false
            referencedRelation: "conversations"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "itinerary_shares_itinerary_id_fkey"
            columns: ["itinerary_id"]
            isOneToOne: false
            referencedRelation: "itineraries"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "itinerary_shares_local_id_fkey"
            columns: ["local_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
        ]
      }
      languages: {
        Row: {
          code: string
        }
        Insert: {
          code: string
        }
        Update: {
          code?: string
        }
        Relationships: []
      }
      local_availability: {
        Row: {
          created_at: string
          during: unknown
          id: number
          local_id: string
        }
        Insert: {
          created_at?: string
          during: unknown
          id?: never
          local_id: string
        }
        Update: {
          created_at?: string
          during?: unknown
          id?: never
          local_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "local_availability_local_id_fkey"
            columns: ["local_id"]
            isOneToOne: false
            referencedRelation: "local_profiles"
            referencedColumns: ["profile_id"]
          },
        ]
      }
      local_cards: {
        Row: {
          accepting_requests: boolean
          available: unknown
          avatar_path: string | null
          city: string
          country_code: string | null
          currency: string
          expertise: string[]
          expertise_group: number
          expertise_mask: unknown
          free_until: string | null
          full_name: string
          headline: string | null
          hourly_rate_cents: number | null
          languages: string[]
          languages_mask: unknown
          last_active_on: string | null
          latitude: number | null
          longitude: number | null
          max_group_size: number
          median_response_minutes: number | null
          open_requests_until: string | null
          profile_id: string
          rating_avg: number | null
          rating_avg_float: number | null
          rating_count: number
          response_rate: number | null
          response_rate_float: number | null
          unit_x: number | null
          unit_y: number | null
          unit_z: number | null
          updated_at: string
          verified: boolean
        }
        Insert: {
          accepting_requests: boolean
          available?: unknown
          avatar_path?: string | null
          city: string
          country_code?: string | null
          currency: string
          expertise: string[]
          expertise_group?: number
          expertise_mask?: unknown
          free_until?: string | null
          full_name: string
          headline?: string | null
          hourly_rate_cents?: number | null
          languages: string[]
          languages_mask?: unknown
          last_active_on?: string | null
          latitude?: number | null
          longitude?: number | null
          max_group_size: number
          median_response_minutes?: number | null
          open_requests_until?: string | null
          profile_id: string
          rating_avg?: number | null
          rating_avg_float?: number | null
          rating_count: number
          response_rate?: number | null
          response_rate_float?: number | null
          unit_x?: number | null
          unit_y?: number | null
          unit_z?: number | null
          updated_at?: string
          verified: boolean
        }
        Update: {
          accepting_requests?: boolean
          available?: unknown
          avatar_path?: string | null
          city?: string
          country_code?: string | null
          currency?: string
          expertise?: string[]
          expertise_group?: number
          expertise_mask?: unknown
          free_until?: string | null
          full_name?: string
          headline?: string | null
          hourly_rate_cents?: number | null
          languages?: string[]
          languages_mask?: unknown
          last_active_on?: string | null
          latitude?: number | null
          longitude?: number | null
          max_group_size?: number
          median_response_minutes?: number | null
          open_requests_until?: string | null
          profile_id?: string
          rating_avg?: number | null
          rating_avg_float?: number | null
          rating_count?: number
          response_rate?: number | null
          response_rate_float?: number | null
          unit_x?: number | null
          unit_y?: number | null
          unit_z?: number | null
          updated_at?: string
          verified?: boolean
        }
        Relationships: [
          {
            foreignKeyName: "local_cards_profile_id_fkey"
            columns: ["profile_id"]
            isOneToOne: true
            referencedRelation: "local_profiles"
            referencedColumns: ["profile_id"]
          },
        ]
      }
      local_profiles: {
        Row: {
          accepting_requests: boolean
          city: string | null
          country_code: string | null
          created_at: string
          currency: string
          expertise: string[]
          headline: string | null
          hourly_rate_cents: number | null
          last_active_at: string | null
          latitude: number | null
          longitude: number | null
          max_group_size: number
          median_response_minutes: number | null
          profile_id: string
          rating_avg: number | null
          rating_count: number
          response_rate: number | null
          updated_at: string
          verified: boolean
        }
        Insert: {
          accepting_requests?: boolean
          city?: string | null
          country_code?: string | null
          created_at?: string
          currency?: string
          expertise?: string[]
          headline?: string | null
          hourly_rate_cents?: number | null
          last_active_at?: string | null
          latitude?: number | null
          longitude?: number | null
          max_group_size?: number
          median_response_minutes?: number | null
          profile_id: string
          rating_avg?: number | null
          rating_count?: number
          response_rate?: number | null
          updated_at?: string
          verified?: boolean
        }
        Update: {
          accepting_requests?: boolean
          city?: string | null
          country_code?: string | null
          created_at?: string
          currency?: string
          expertise?: string[]
          headline?: string | null
          hourly_rate_cents?: number | null
          last_active_at?: string | null
          latitude?: number | null
          longitude?: number | null
          max_group_size?: number
          median_response_minutes?: number | null
          profile_id?: string
          rating_avg?: number | null
          rating_count?: number
          response_rate?: number | null
          updated_at?: string
          verified?: boolean
        }
        Relationships: [
          {
            foreignKeyName: "local_profiles_currency_fkey"
            columns: ["currency"]
            isOneToOne: false
            referencedRelation: "currencies"
            referencedColumns: ["code"]
          },
          {
            foreignKeyName: "local_profiles_profile_id_fkey"
            columns: ["profile_id"]
            isOneToOne: true
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
        ]
      }
      messages: {
        Row: {
          attachment_path: string | null
          body: string | null
          conversation_id: string
          created_at: string
          deleted_at: string | null
          edited_at: string | null
          id: string
          kind: Database["public"]["Enums"]["message_kind"]
          masked: boolean
          sender_id: string | null
        }
        Insert: {
          attachment_path?: string | null
          body?: string | null
          conversation_id: string
          created_at?: string
          deleted_at?: string | null
          edited_at?: string | null
          id?: string
          kind?: Database["public"]["Enums"]["message_kind"]
          masked?: boolean
          sender_id?: string | null
        }
        Update: {
          attachment_path?: string | null
          body?: string | null
          conversation_id?: string
          created_at?: string
          deleted_at?: string | null
          edited_at?: string | null
          id?: string
          kind?: Database["public"]["Enums"]["message_kind"]
          masked?: boolean
          sender_id?: string | null
        }
        Relationships: [
          {
            foreignKeyName: "messages_conversation_id_fkey"
            columns: ["conversation_id"]
            isOneToOne: false
            referencedRelation: "conversations"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "messages_sender_id_fkey"
            columns: ["sender_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
        ]
      }
      profiles: {
        Row: {
          avatar_path: string | null
          bio: string | null
          created_at: string
          full_name: string
          home_city: string | null
          id: string
          interests: string[]
          languages: string[]
          role: Database["public"]["Enums"]["user_role"]
          updated_at: string
        }
        Insert: {
          avatar_path?: string | null
          bio?: string | null
          created_at?: string
          full_name: string
          home_city?: string | null
          id: string
          interests?: string[]
          languages?: string[]
          role: Database["public"]["Enums"]["user_role"]
          updated_at?: string
        }
        Update: {
          avatar_path?: string | null
          bio?: string | null
          created_at?: string
          full_name?: string
          home_city?: string | null
          id?: string
          interests?: string[]
          languages?: string[]
          role?: Database["public"]["Enums"]["user_role"]
          updated_at?: string
        }
        Relationships: []
      }
      reports: {
        Row: {
          created_at: string
          details: string | null
          id: string
          message_id: string | null
          reason: Database["public"]["Enums"]["report_reason"]
          reported_id: string | null
          reporter_id: string | null
          status: Database["public"]["Enums"]["report_status"]
        }
        Insert: {
          created_at?: string
          details?: string | null
          id?: string
          message_id?: string | null
          reason: Database["public"]["Enums"]["report_reason"]
          reported_id?: string | null
          reporter_id?: string | null
          status?: Database["public"]["Enums"]["report_status"]
        }
        Update: {
          created_at?: string
          details?: string | null
          id?: string
          message_id?: string | null
          reason?: Database["public"]["Enums"]["report_reason"]
          reported_id?: string | null
          reporter_id?: string | null
          status?: Database["public"]["Enums"]["report_status"]
        }
        Relationships: [
          {
            foreignKeyName: "reports_message_id_fkey"
            columns: ["message_id"]
            isOneToOne: false
            referencedRelation: "messages"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "reports_reported_id_fkey"
            columns: ["reported_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "reports_reporter_id_fkey"
            columns: ["reporter_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
        ]
      }
      reviews: {
        Row: {
          author_id: string | null
          body: string | null
          booking_id: string
          created_at: string
          id: string
          rating: number
          replied_at: string | null
          reply: string | null
          reveal_due_at: string
          revealed_at: string | null
          subject_id: string | null
          subject_role: Database["public"]["Enums"]["user_role"]
        }
        Insert: {
          author_id?: string | null
          body?: string | null
          booking_id: string
          created_at?: string
          id?: string
          rating: number
          replied_at?: string | null
          reply?: string | null
          reveal_due_at: string
          revealed_at?: string | null
          subject_id?: string | null
          subject_role: Database["public"]["Enums"]["user_role"]
        }
        Update: {
          author_id?: string | null
          body?: string | null
          booking_id?: string
          created_at?: string
          id?: string
          rating?: number
          replied_at?: string | null
          reply?: string | null
          reveal_due_at?: string
          revealed_at?: string | null
          subject_id?: string | null
          subject_role?: Database["public"]["Enums"]["user_role"]
        }
        Relationships: [
          {
            foreignKeyName: "reviews_author_id_fkey"
            columns: ["author_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "reviews_booking_id_fkey"
            columns: ["booking_id"]
            isOneToOne: false
            referencedRelation: "booking_requests"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "reviews_booking_id_fkey"
            columns: ["booking_id"]
            isOneToOne: false
            referencedRelation: "bookings"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "reviews_subject_id_fkey"
            columns: ["subject_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
        ]
      }
    }
    Views: {
      bookings: {
        Row: {
          accepted_at: string | null
          cancelled_at: string | null
          cancelled_by: string | null
          completed_at: string | null
          conversation_id: string | null
          created_at: string | null
          currency: string | null
          duration_minutes: number | null
          effective_status: Database["public"]["Enums"]["booking_status"] | null
          ends_on: string | null
          expires_at: string | null
          group_size: number | null
          id: string | null
          itinerary_id: string | null
          local_id: string | null
          meeting_point: string | null
          message: string | null
          offer_message: string | null
          offered_at: string | null
          price_cents: number | null
          starts_on: string | null
          status: Database["public"]["Enums"]["booking_status"] | null
          status_changed_at: string | null
          traveler_id: string | null
          updated_at: string | null
        }
        Insert: {
          accepted_at?: string | null
          cancelled_at?: string | null
          cancelled_by?: string | null
          completed_at?: string | null
          conversation_id?: string | null
          created_at?: string | null
          currency?: string | null
          duration_minutes?: number | null
          effective_status?: never
          ends_on?: string | null
          expires_at?: string | null
          group_size?: number | null
          id?: string | null
          itinerary_id?: string | null
          local_id?: string | null
          meeting_point?: string | null
          message?: string | null
          offer_message?: string | null
          offered_at?: string | null
          price_cents?: number | null
          starts_on?: string | null
          status?: Database["public"]["Enums"]["booking_status"] | null
          status_changed_at?: string | null
          traveler_id?: string | null
          updated_at?: string | null
        }
        Update: {
          accepted_at?: string | null
          cancelled_at?: string | null
          cancelled_by?: string | null
          completed_at?: string | null
          conversation_id?: string | null
          created_at?: string | null
          currency?: string | null
          duration_minutes?: number | null
          effective_status?: never
          ends_on?: string | null
          expires_at?: string | null
          group_size?: number | null
          id?: string | null
          itinerary_id?: string | null
          local_id?: string | null
          meeting_point?: string | null
          message?: string | null
          offer_message?: string | null
          offered_at?: string | null
          price_cents?: number | null
          starts_on?: string | null
          status?: Database["public"]["Enums"]["booking_status"] | null
          status_changed_at?: string | null
          traveler_id?: string | null
          updated_at?: string | null
        }
        Relationships: [
          {
            foreignKeyName: "booking_requests_conversation_id_fkey"
            columns: ["conversation_id"]
            isOneToOne: false
            referencedRelation: "conversations"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "booking_requests_currency_fkey"
            columns: ["currency"]
            isOneToOne: false
            referencedRelation: "currencies"
            referencedColumns: ["code"]
          },
          {
            foreignKeyName: "booking_requests_itinerary_id_fkey"
            columns: ["itinerary_id"]
            isOneToOne: false
            referencedRelation: "itineraries"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "booking_requests_local_id_fkey"
            columns: ["local_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "booking_requests_traveler_id_fkey"
            columns: ["traveler_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
        ]
      }
    }
    Functions: {
      accept_offer: {
        Args: { p_booking_id: string }
        Returns: {
          accepted_at: string | null
          cancelled_at: string | null
          cancelled_by: string | null
          completed_at: string | null
          conversation_id: string
          created_at: string
          currency: string | null
          duration_minutes: number | null
          ends_on: string
          expires_at: string
          group_size: number
          id: string
          itinerary_id: string | null
          local_id: string | null
          meeting_point: string | null
          message: string | null
          offer_message: string | null
          offered_at: string | null
          price_cents: number | null
          starts_on: string
          status: Database["public"]["Enums"]["booking_status"]
          status_changed_at: string
          traveler_id: string | null
          updated_at: string
        }
        SetofOptions: {
          from: "*"
          to: "booking_requests"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      cancel_booking: {
        Args: { p_booking_id: string }
        Returns: {
          accepted_at: string | null
          cancelled_at: string | null
          cancelled_by: string | null
          completed_at: string | null
          conversation_id: string
          created_at: string
          currency: string | null
          duration_minutes: number | null
          ends_on: string
          expires_at: string
          group_size: number
          id: string
          itinerary_id: string | null
          local_id: string | null
          meeting_point: string | null
          message: string | null
          offer_message: string | null
          offered_at: string | null
          price_cents: number | null
          starts_on: string
          status: Database["public"]["Enums"]["booking_status"]
          status_changed_at: string
          traveler_id: string | null
          updated_at: string
        }
        SetofOptions: {
          from: "*"
          to: "booking_requests"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      complete_booking: {
        Args: { p_booking_id: string }
        Returns: {
          accepted_at: string | null
          cancelled_at: string | null
          cancelled_by: string | null
          completed_at: string | null
          conversation_id: string
          created_at: string
          currency: string | null
          duration_minutes: number | null
          ends_on: string
          expires_at: string
          group_size: number
          id: string
          itinerary_id: string | null
          local_id: string | null
          meeting_point: string | null
          message: string | null
          offer_message: string | null
          offered_at: string | null
          price_cents: number | null
          starts_on: string
          status: Database["public"]["Enums"]["booking_status"]
          status_changed_at: string
          traveler_id: string | null
          updated_at: string
        }
        SetofOptions: {
          from: "*"
          to: "booking_requests"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      decline_booking: {
        Args: { p_booking_id: string }
        Returns: {
          accepted_at: string | null
          cancelled_at: string | null
          cancelled_by: string | null
          completed_at: string | null
          conversation_id: string
          created_at: string
          currency: string | null
          duration_minutes: number | null
          ends_on: string
          expires_at: string
          group_size: number
          id: string
          itinerary_id: string | null
          local_id: string | null
          meeting_point: string | null
          message: string | null
          offer_message: string | null
          offered_at: string | null
          price_cents: number | null
          starts_on: string
          status: Database["public"]["Enums"]["booking_status"]
          status_changed_at: string
          traveler_id: string | null
          updated_at: string
        }
        SetofOptions: {
          from: "*"
          to: "booking_requests"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      inbox: {
        Args: {
          p_before_activity_at?: string
          p_before_id?: string
          p_limit?: number
        }
        Returns: {
          contact_unlocked: boolean
          conversation_id: string
          last_activity_at: string
          last_message_preview: string
          last_message_sender_id: string
          other_party_avatar_path: string
          other_party_id: string
          other_party_name: string
          other_party_role: Database["public"]["Enums"]["user_role"]
          unread_count: number
        }[]
      }
      make_offer: {
        Args: {
          p_booking_id: string
          p_currency: string
          p_duration_minutes: number
          p_expires_at?: string
          p_meeting_point?: string
          p_message?: string
          p_price_cents: number
        }
        Returns: {
          accepted_at: string | null
          cancelled_at: string | null
          cancelled_by: string | null
          completed_at: string | null
          conversation_id: string
          created_at: string
          currency: string | null
          duration_minutes: number | null
          ends_on: string
          expires_at: string
          group_size: number
          id: string
          itinerary_id: string | null
          local_id: string | null
          meeting_point: string | null
          message: string | null
          offer_message: string | null
          offered_at: string | null
          price_cents: number | null
          starts_on: string
          status: Database["public"]["Enums"]["booking_status"]
          status_changed_at: string
          traveler_id: string | null
          updated_at: string
        }
        SetofOptions: {
          from: "*"
          to: "booking_requests"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      mark_read: {
        Args: { p_conversation_id: string; p_message_id?: string }
        Returns: number
      }
      match_locals: {
        Args: {
          p_after_id?: string
          p_after_score?: number
          p_after_tier?: number
          p_as_of?: string
          p_city?: string
          p_ends_on: string
          p_group_size?: number
          p_interests?: string[]
          p_languages?: string[]
          p_lat?: number
          p_limit?: number
          p_lon?: number
          p_radius_km?: number
          p_starts_on: string
        }
        Returns: {
          accepting_requests: boolean
          avatar_path: string
          city: string
          country_code: string
          currency: string
          expertise: string[]
          full_name: string
          headline: string
          hourly_rate_cents: number
          languages: string[]
          last_active_on: string
          latitude: number
          longitude: number
          max_group_size: number
          median_response_minutes: number
          open_requests: number
          profile_id: string
          rating_avg: number
          rating_count: number
          reason_activity: number
          reason_interest: number
          reason_language: number
          reason_new_local: number
          reason_open_requests: number
          reason_rating: number
          reason_reciprocal: number
          reason_response_rate: number
          reason_response_time: number
          response_rate: number
          score: number
          tier: number
          verified: boolean
        }[]
      }
      message_history: {
        Args: {
          p_before_created_at?: string
          p_before_id?: string
          p_conversation_id: string
          p_limit?: number
        }
        Returns: {
          attachment_path: string | null
          body: string | null
          conversation_id: string
          created_at: string
          deleted_at: string | null
          edited_at: string | null
          id: string
          kind: Database["public"]["Enums"]["message_kind"]
          masked: boolean
          sender_id: string | null
        }[]
        SetofOptions: {
          from: "*"
          to: "messages"
          isOneToOne: false
          isSetofReturn: true
        }
      }
      request_booking: {
        Args: {
          p_conversation_id: string
          p_ends_on: string
          p_group_size: number
          p_itinerary_id?: string
          p_message?: string
          p_starts_on: string
        }
        Returns: {
          accepted_at: string | null
          cancelled_at: string | null
          cancelled_by: string | null
          completed_at: string | null
          conversation_id: string
          created_at: string
          currency: string | null
          duration_minutes: number | null
          ends_on: string
          expires_at: string
          group_size: number
          id: string
          itinerary_id: string | null
          local_id: string | null
          meeting_point: string | null
          message: string | null
          offer_message: string | null
          offered_at: string | null
          price_cents: number | null
          starts_on: string
          status: Database["public"]["Enums"]["booking_status"]
          status_changed_at: string
          traveler_id: string | null
          updated_at: string
        }
        SetofOptions: {
          from: "*"
          to: "booking_requests"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      start_conversation: { Args: { p_local_id: string }; Returns: string }
      unread_total: { Args: Record<PropertyKey, never>; Returns: number }
      withdraw_booking: {
        Args: { p_booking_id: string }
        Returns: {
          accepted_at: string | null
          cancelled_at: string | null
          cancelled_by: string | null
          completed_at: string | null
          conversation_id: string
          created_at: string
          currency: string | null
          duration_minutes: number | null
          ends_on: string
          expires_at: string
          group_size: number
          id: string
          itinerary_id: string | null
          local_id: string | null
          meeting_point: string | null
          message: string | null
          offer_message: string | null
          offered_at: string | null
          price_cents: number | null
          starts_on: string
          status: Database["public"]["Enums"]["booking_status"]
          status_changed_at: string
          traveler_id: string | null
          updated_at: string
        }
        SetofOptions: {
          from: "*"
          to: "booking_requests"
          isOneToOne: true
          isSetofReturn: false
        }
      }
    }
    Enums: {
      booking_status:
        | "requested"
        | "offered"
        | "accepted"
        | "declined"
        | "withdrawn"
        | "expired"
        | "completed"
        | "cancelled"
      itinerary_status:
        | "draft"
        | "shared"
        | "confirmed"
        | "completed"
        | "cancelled"
      message_kind: "text" | "attachment" | "system"
      report_reason: "spam" | "scam" | "harassment" | "inappropriate" | "other"
      report_status: "open" | "reviewing" | "actioned" | "dismissed"
      user_role: "traveler" | "local"
    }
    CompositeTypes: {
      [_ in never]: never
    }
  }
}

type DatabaseWithoutInternals = Omit<Database, "__InternalSupabase">

type DefaultSchema = DatabaseWithoutInternals[Extract<keyof Database, "public">]

export type Tables<
  DefaultSchemaTableNameOrOptions extends
    | keyof (DefaultSchema["Tables"] & DefaultSchema["Views"])
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends (DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
        DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])
    : never) = never,
> = DefaultSchemaTableNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
      DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])[TableName] extends {
      Row: infer R
    }
    ? R
    : never
  : DefaultSchemaTableNameOrOptions extends keyof (DefaultSchema["Tables"] &
        DefaultSchema["Views"])
    ? (DefaultSchema["Tables"] &
        DefaultSchema["Views"])[DefaultSchemaTableNameOrOptions] extends {
        Row: infer R
      }
      ? R
      : never
    : never

export type TablesInsert<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends (DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never) = never,
> = DefaultSchemaTableNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Insert: infer I
    }
    ? I
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
    ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
        Insert: infer I
      }
      ? I
      : never
    : never

export type TablesUpdate<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends (DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never) = never,
> = DefaultSchemaTableNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Update: infer U
    }
    ? U
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
    ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
        Update: infer U
      }
      ? U
      : never
    : never

export type Enums<
  DefaultSchemaEnumNameOrOptions extends
    | keyof DefaultSchema["Enums"]
    | { schema: keyof DatabaseWithoutInternals },
  EnumName extends (DefaultSchemaEnumNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"]
    : never) = never,
> = DefaultSchemaEnumNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"][EnumName]
  : DefaultSchemaEnumNameOrOptions extends keyof DefaultSchema["Enums"]
    ? DefaultSchema["Enums"][DefaultSchemaEnumNameOrOptions]
    : never

export type CompositeTypes<
  PublicCompositeTypeNameOrOptions extends
    | keyof DefaultSchema["CompositeTypes"]
    | { schema: keyof DatabaseWithoutInternals },
  CompositeTypeName extends (PublicCompositeTypeNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"]
    : never) = never,
> = PublicCompositeTypeNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"][CompositeTypeName]
  : PublicCompositeTypeNameOrOptions extends keyof DefaultSchema["CompositeTypes"]
    ? DefaultSchema["CompositeTypes"][PublicCompositeTypeNameOrOptions]
    : never

export const Constants = {
  graphql_public: {
    Enums: {},
  },
  public: {
    Enums: {
      booking_status: [
        "requested",
        "offered",
        "accepted",
        "declined",
        "withdrawn",
        "expired",
        "completed",
        "cancelled",
      ],
      itinerary_status: [
        "draft",
        "shared",
        "confirmed",
        "completed",
        "cancelled",
      ],
      message_kind: ["text", "attachment", "system"],
      report_reason: ["spam", "scam", "harassment", "inappropriate", "other"],
      report_status: ["open", "reviewing", "actioned", "dismissed"],
      user_role: ["traveler", "local"],
    },
  },
} as const

